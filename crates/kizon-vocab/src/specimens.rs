//! The words of residual specimens (残余検体, Q4): what a specimen is, and how it was kept
//! before analysis (the pre-analytical conditions the stability limits depend on, Q7).

use crate::vocabulary;

vocabulary! {
    /// The kind of specimen (検体の種類), as laboratory systems name it.
    SpecimenType {
        /// 血清
        Serum = "serum",
        /// 血漿
        Plasma = "plasma",
        /// 全血
        WholeBlood = "whole-blood",
        /// 尿
        Urine = "urine",
        /// 脳脊髄液
        Csf = "csf",
        /// ホルマリン固定パラフィン包埋組織
        FfpeTissue = "ffpe-tissue",
        /// 凍結組織
        FrozenTissue = "frozen-tissue",
        /// 咽頭・鼻咽頭ぬぐい液
        Swab = "swab",
        /// 唾液
        Saliva = "saliva",
        /// 便
        Stool = "stool",
        /// その他
        Other = "other",
    }
}

impl SpecimenType {
    /// The type a laboratory system's cell names: the spelling above, or its usual Japanese
    /// name (血清, 血漿, 全血, 尿, 髄液, FFPE, ぬぐい液 …), or an English variant
    /// (`whole blood`, `CSF`).
    pub fn from_cell(cell: &str) -> Option<SpecimenType> {
        let cell = cell.trim();
        if let Some(word) = SpecimenType::parse(&cell.to_ascii_lowercase().replace(' ', "-")) {
            return Some(word);
        }
        Some(match cell {
            "血清" => SpecimenType::Serum,
            "血漿" | "血しょう" => SpecimenType::Plasma,
            "全血" => SpecimenType::WholeBlood,
            "尿" => SpecimenType::Urine,
            "髄液" | "脳脊髄液" => SpecimenType::Csf,
            "FFPE" | "ffpe" | "FFPE組織" | "ホルマリン固定パラフィン包埋組織" => {
                SpecimenType::FfpeTissue
            }
            "凍結組織" => SpecimenType::FrozenTissue,
            "ぬぐい液" | "拭い液" | "スワブ" | "鼻咽頭ぬぐい液" | "咽頭ぬぐい液" => {
                SpecimenType::Swab
            }
            "唾液" => SpecimenType::Saliva,
            "便" | "糞便" => SpecimenType::Stool,
            "その他" => SpecimenType::Other,
            _ => return None,
        })
    }

    /// The names users read, Japanese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            SpecimenType::Serum => ("血清", "serum"),
            SpecimenType::Plasma => ("血漿", "plasma"),
            SpecimenType::WholeBlood => ("全血", "whole blood"),
            SpecimenType::Urine => ("尿", "urine"),
            SpecimenType::Csf => ("脳脊髄液", "cerebrospinal fluid"),
            SpecimenType::FfpeTissue => ("FFPE 組織", "FFPE tissue"),
            SpecimenType::FrozenTissue => ("凍結組織", "frozen tissue"),
            SpecimenType::Swab => ("ぬぐい液", "swab"),
            SpecimenType::Saliva => ("唾液", "saliva"),
            SpecimenType::Stool => ("便", "stool"),
            SpecimenType::Other => ("その他", "other"),
        }
    }
}

vocabulary! {
    /// How a specimen was stored until analysis, by temperature band (CLSI GP44: room
    /// temperature, refrigerated, frozen, deep-frozen); the protocol's stability limits are set
    /// per band.
    StorageTemperature {
        /// 室温（15–25 °C; above 8 °C here）
        Room = "room",
        /// 冷蔵（2–8 °C; above 0 °C here）
        Refrigerated = "refrigerated",
        /// 冷凍（−20 °C; −30 °C to 0 °C here）
        Frozen = "frozen",
        /// 超低温冷凍（−70 °C or below; below −30 °C here）
        DeepFrozen = "deep-frozen",
    }
}

impl StorageTemperature {
    /// The band of a temperature in °C.
    pub fn of_celsius(celsius: f64) -> StorageTemperature {
        if celsius > 8.0 {
            StorageTemperature::Room
        } else if celsius > 0.0 {
            StorageTemperature::Refrigerated
        } else if celsius >= -30.0 {
            StorageTemperature::Frozen
        } else {
            StorageTemperature::DeepFrozen
        }
    }

    /// The band a cell names: a temperature in °C (`-80`, `4 °C`, `−20℃`), the spelling above,
    /// or its Japanese name (室温, 冷蔵, 冷凍, 超低温).
    pub fn from_cell(cell: &str) -> Option<(StorageTemperature, Option<f64>)> {
        let cell = cell.trim();
        if let Some(word) = StorageTemperature::parse(&cell.to_ascii_lowercase()) {
            return Some((word, None));
        }
        let word = match cell {
            "室温" | "常温" => Some(StorageTemperature::Room),
            "冷蔵" => Some(StorageTemperature::Refrigerated),
            "冷凍" => Some(StorageTemperature::Frozen),
            "超低温" | "超低温冷凍" | "ディープフリーザー" => {
                Some(StorageTemperature::DeepFrozen)
            }
            _ => None,
        };
        if let Some(word) = word {
            return Some((word, None));
        }
        let number = cell
            .trim_end_matches(['C', 'c', '℃'])
            .trim_end()
            .trim_end_matches('°')
            .trim()
            .replace(['−', '－'], "-");
        let celsius: f64 = number.parse().ok().filter(|c: &f64| c.is_finite())?;
        (-273.15..=100.0)
            .contains(&celsius)
            .then(|| (StorageTemperature::of_celsius(celsius), Some(celsius)))
    }

    /// The names users read, Japanese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            StorageTemperature::Room => ("室温", "at room temperature"),
            StorageTemperature::Refrigerated => ("冷蔵", "refrigerated"),
            StorageTemperature::Frozen => ("冷凍", "frozen"),
            StorageTemperature::DeepFrozen => ("超低温冷凍", "deep-frozen"),
        }
    }
}

vocabulary! {
    /// How a quantitative device is compared with its comparator (CLSI EP09c): the protocol's
    /// `[[method_comparison]]` and `kizon stats method-comparison --method`.
    ComparisonMethod {
        /// Passing & Bablok (1983), with its analytical intervals.
        PassingBablok = "passing-bablok",
        /// Deming regression with a given error ratio; Linnet's jackknife intervals.
        Deming = "deming",
        /// Weighted Deming (Linnet 1990, 1993) for a constant coefficient of variation.
        WeightedDeming = "weighted-deming",
        /// Ordinary least squares (the comparator taken as free of error).
        Ols = "ols",
        /// Bland & Altman (1986, 1999): the mean difference and the limits of agreement.
        BlandAltman = "bland-altman",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laboratory_spellings_read_as_their_type() {
        assert_eq!(SpecimenType::from_cell("血清"), Some(SpecimenType::Serum));
        assert_eq!(
            SpecimenType::from_cell("Whole blood"),
            Some(SpecimenType::WholeBlood)
        );
        assert_eq!(SpecimenType::from_cell("CSF"), Some(SpecimenType::Csf));
        assert_eq!(
            SpecimenType::from_cell("FFPE"),
            Some(SpecimenType::FfpeTissue)
        );
        assert_eq!(SpecimenType::from_cell("blood"), None);
    }

    #[test]
    fn temperatures_fall_in_their_band_at_the_edges() {
        let band = |cell: &str| StorageTemperature::from_cell(cell).map(|(b, _)| b);
        assert_eq!(band("25"), Some(StorageTemperature::Room));
        assert_eq!(band("8"), Some(StorageTemperature::Refrigerated));
        assert_eq!(band("4 °C"), Some(StorageTemperature::Refrigerated));
        assert_eq!(band("0"), Some(StorageTemperature::Frozen));
        assert_eq!(band("−20℃"), Some(StorageTemperature::Frozen));
        // U+FF0D, what CP932's minus sign decodes to.
        assert_eq!(band("－20℃"), Some(StorageTemperature::Frozen));
        assert_eq!(band("-30"), Some(StorageTemperature::Frozen));
        assert_eq!(band("-80"), Some(StorageTemperature::DeepFrozen));
        assert_eq!(band("冷蔵"), Some(StorageTemperature::Refrigerated));
        assert_eq!(band("deep-frozen"), Some(StorageTemperature::DeepFrozen));
        assert_eq!(band("-300"), None);
        assert_eq!(band("cold"), None);
        assert_eq!(StorageTemperature::from_cell("-80").unwrap().1, Some(-80.0));
    }
}
