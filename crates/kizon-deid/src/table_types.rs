//! The shape of Table E.1-1's rows (the rows themselves are generated into `table.rs`).

/// The Basic Profile's action for an attribute (PS3.15 E.1.1, Table E.1-1 column "Basic Prof.").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basic {
    /// Replace with a non-zero-length dummy value consistent with the VR.
    D,
    /// Replace with a zero-length value, or a dummy value consistent with the VR.
    Z,
    /// Remove.
    X,
    /// Keep (a sequence: keep it and de-identify its items).
    K,
    /// Clean: replace with values of similar meaning known not to identify.
    C,
    /// Replace the UID with one that is consistent across the instances of the set.
    U,
    /// X unless Z is required to keep the IOD valid.
    XZ,
    /// X unless D is required to keep the IOD valid.
    XD,
    /// Z unless D is required to keep the IOD valid.
    ZD,
    /// X unless Z or D is required to keep the IOD valid.
    XZD,
    /// X unless Z or a sequence whose UIDs are replaced (U*) is required (a reference sequence).
    XZUStar,
}

/// An option's action for an attribute: keep it, or clean it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    /// The option does not name the attribute.
    None,
    K,
    C,
}

/// The action of each option of Table E.1-1 for one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionActions {
    pub retain_safe_private: Opt,
    pub retain_uids: Opt,
    pub retain_device_identity: Opt,
    pub retain_institution_identity: Opt,
    pub retain_patient_characteristics: Opt,
    pub retain_full_dates: Opt,
    pub retain_modified_dates: Opt,
    pub clean_descriptors: Opt,
    pub clean_structured_content: Opt,
    pub clean_graphics: Opt,
}

impl OptionActions {
    pub const NONE: OptionActions = OptionActions {
        retain_safe_private: Opt::None,
        retain_uids: Opt::None,
        retain_device_identity: Opt::None,
        retain_institution_identity: Opt::None,
        retain_patient_characteristics: Opt::None,
        retain_full_dates: Opt::None,
        retain_modified_dates: Opt::None,
        clean_descriptors: Opt::None,
        clean_structured_content: Opt::None,
        clean_graphics: Opt::None,
    };
}

/// One row of Table E.1-1. `tag & mask == tag_of_element & mask` matches (masked rows are the
/// repeating groups 50xx and 60xx).
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub tag: u32,
    pub mask: u32,
    pub name: &'static str,
    pub basic: Basic,
    pub options: OptionActions,
}

/// The row for the element `tag` (group << 16 | element), if the table names it.
pub fn entry(tag: u32) -> Option<&'static Entry> {
    let table = crate::table::TABLE;
    let exact = table.partition_point(|e| e.mask == u32::MAX);
    let (exact_rows, masked_rows) = table.split_at(exact);
    if let Ok(i) = exact_rows.binary_search_by_key(&tag, |e| e.tag) {
        return Some(&exact_rows[i]);
    }
    masked_rows.iter().find(|e| tag & e.mask == e.tag)
}
