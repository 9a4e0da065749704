use super::*;

/// The template with its `[design]` table replaced.
fn with_design(design: &str) -> String {
    let start = TEMPLATE.find("[design]").unwrap();
    let end = TEMPLATE.find("[eligibility]").unwrap();
    format!("{}{}\n\n{}", &TEMPLATE[..start], design, &TEMPLATE[end..])
}

fn design(linked: bool, reference: &str, privacy: &str, table: &str) -> String {
    with_design(&format!(
        "[design]\nlinked_clinical_info = {linked}\nreference_standard = \"{reference}\"\n\
         privacy = \"{privacy}\"\ncorrespondence_table = \"{table}\"\ndata_kinds = [\"image\"]"
    ))
}

fn without_endpoints(text: &str) -> String {
    text[..text.find("# 評価項目と判定基準").unwrap()].to_owned()
}

#[test]
fn template_parses_into_a_2_1_expert_panel_protocol() {
    let protocol = Protocol::parse(TEMPLATE).expect("template must parse");
    assert_eq!(protocol.device.novelty, Novelty::New);
    assert!(!protocol.design.linked_clinical_info);
    assert_eq!(
        protocol.design.reference_standard,
        ReferenceStandard::ExpertPanel
    );
    assert_eq!(protocol.design.data_kinds, vec![DataKind::Image]);
    assert_eq!(protocol.study.planned_on.unwrap().to_string(), "2026-11-25");
    assert_eq!(
        protocol.primary_endpoint().unwrap().id,
        "primary-sensitivity"
    );
    assert_eq!(protocol.endpoints[1].lower_bound_at_least, Some(0.70));
}

#[test]
fn unknown_key_names_its_line_and_column() {
    let text = TEMPLATE.replace("sponsor = ", "sponser = ");
    let err = Protocol::parse(&text).unwrap_err();
    let line = TEMPLATE
        .lines()
        .position(|l| l.starts_with("sponsor"))
        .unwrap()
        + 1;
    match err {
        ProtocolError::Syntax { location, message } => {
            assert_eq!(location, Location { line, column: 1 });
            assert!(message.contains("sponser"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn wrong_type_names_its_line_and_column() {
    let text = TEMPLATE.replace(
        "linked_clinical_info = false",
        "linked_clinical_info = \"no\"",
    );
    let err = Protocol::parse(&text).unwrap_err();
    let line = TEMPLATE
        .lines()
        .position(|l| l.starts_with("linked_clinical_info"))
        .unwrap()
        + 1;
    let ProtocolError::Syntax { location, message } = err else {
        panic!("expected a syntax error")
    };
    assert_eq!(location.line, line);
    assert_eq!(location.column, "linked_clinical_info = ".len() + 1);
    assert!(message.contains("bool"), "{message}");
}

#[test]
fn unknown_reference_standard_lists_the_choices() {
    let text = TEMPLATE.replace("\"expert-panel\"\n", "\"radiologist\"\n");
    let err = Protocol::parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("radiologist") && err.contains("expert-panel"),
        "{err}"
    );
}

#[test]
fn generic_novelty_is_kept_for_the_plan_to_report() {
    let text = TEMPLATE.replace("novelty = \"new\"", "novelty = \"generic\"");
    let protocol = Protocol::parse(&text).unwrap();
    assert_eq!(protocol.device.novelty, Novelty::Other("generic".into()));
}

#[test]
fn confirmed_diagnosis_without_linked_info_names_both_keys() {
    let text = design(false, "confirmed-diagnosis", "pseudonymized", "at-provider");
    let err = Protocol::parse(&text).unwrap_err();
    let ProtocolError::Contradiction(c) = &err else {
        panic!("expected a contradiction, got {err:?}")
    };
    assert_eq!(c.first_key, "design.reference_standard");
    assert_eq!(c.second_key, "design.linked_clinical_info");
    assert_eq!(c.clause, "Q4");
    let line_of = |key: &str| text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    assert_eq!(c.first_location.line, line_of("reference_standard"));
    assert_eq!(c.second_location.line, line_of("linked_clinical_info"));
    let shown = err.to_string();
    assert!(
        shown.contains("design.reference_standard")
            && shown.contains("design.linked_clinical_info")
    );
}

#[test]
fn comparator_method_with_sensitivity_endpoint_is_rejected() {
    let text = design(false, "comparator-method", "non-identifiable", "none");
    let ProtocolError::Contradiction(c) = Protocol::parse(&text).unwrap_err() else {
        panic!("expected a contradiction")
    };
    assert_eq!(c.code, "comparator-is-not-a-reference");
    assert_eq!(c.first_key, "endpoints[0].metric");
    // With agreement endpoints the same design is accepted.
    let agreement = text
        .replace("metric = \"sensitivity\"", "metric = \"ppa\"")
        .replace("metric = \"specificity\"", "metric = \"npa\"");
    Protocol::parse(&agreement).unwrap();
    // Accuracy against a comparator is overall agreement under another name: refused here
    // as the report refuses it, not accepted at plan time and refused at the report.
    let accuracy = agreement.replace("metric = \"ppa\"", "metric = \"accuracy\"");
    let ProtocolError::Contradiction(c) = Protocol::parse(&accuracy).unwrap_err() else {
        panic!("expected a contradiction")
    };
    assert_eq!(c.code, "comparator-is-not-a-reference");
}

/// The metrics `kizon stats` computes but a protocol may not set a criterion on (prevalence,
/// likelihood ratios, DOR, Youden's J) are named with the endpoint metrics in the hint.
#[test]
fn a_statistic_that_is_not_an_endpoint_metric_names_its_line() {
    let text = TEMPLATE.replacen("metric = \"sensitivity\"", "metric = \"youden\"", 1);
    let error = Protocol::parse(&text).unwrap_err();
    let shown = error.to_string();
    let line = 1 + TEMPLATE
        .lines()
        .position(|l| l.starts_with("metric = \"sensitivity\""))
        .unwrap();
    assert!(
        shown.starts_with(&format!("{line}:10: `endpoints[0].metric`")),
        "{shown}"
    );
    assert!(
        shown.contains("`youden` is not an endpoint metric"),
        "{shown}"
    );
    assert!(error.hint().contains("\"auc\""), "{}", error.hint());
}

/// Every combination of the deciding keys: accepted exactly when no rule forbids it, and
/// rejected by the rule the table below expects.
#[test]
fn every_design_combination_is_accepted_or_rejected_by_the_right_rule() {
    let mut accepted = 0;
    for linked in [false, true] {
        for reference in ReferenceStandard::ALL {
            for privacy in Privacy::ALL {
                for table in CorrespondenceTable::ALL {
                    let text = without_endpoints(&design(
                        linked,
                        reference.as_str(),
                        privacy.as_str(),
                        table.as_str(),
                    ));
                    let expected = if *reference == ReferenceStandard::ConfirmedDiagnosis && !linked
                    {
                        Some("confirmed-diagnosis-needs-linked-info")
                    } else if *table == CorrespondenceTable::AtApplicant
                        && matches!(privacy, Privacy::Anonymized | Privacy::NonIdentifiable)
                    {
                        Some("applicant-table-makes-data-identifiable")
                    } else if *privacy == Privacy::Anonymized && *table != CorrespondenceTable::None
                    {
                        Some("anonymized-has-no-table")
                    } else if *privacy == Privacy::Pseudonymized
                        && *table == CorrespondenceTable::None
                    {
                        Some("pseudonymized-has-a-table")
                    } else if linked
                        && *privacy == Privacy::NonIdentifiable
                        && *table == CorrespondenceTable::None
                    {
                        Some("linked-info-needs-traceability")
                    } else {
                        None
                    };
                    match (Protocol::parse(&text), expected) {
                        (Ok(p), None) => {
                            accepted += 1;
                            assert_eq!(p.design.privacy, *privacy);
                        }
                        (Err(ProtocolError::Contradiction(c)), Some(code)) => {
                            assert_eq!(c.code, code, "{linked} {reference} {privacy} {table}")
                        }
                        (got, want) => panic!(
                            "{linked} {reference} {privacy} {table}: got {got:?}, want {want:?}"
                        ),
                    }
                }
            }
        }
    }
    // Of 72 combinations: 2(1) keeps 2 references × 8 privacy/table pairs, 2(2) keeps
    // 3 references × 7 pairs.
    assert_eq!(accepted, 2 * 8 + 3 * 7);
}

#[test]
fn level_outside_zero_one_is_invalid() {
    let text = TEMPLATE.replacen("level = 0.95", "level = 95", 1);
    let err = Protocol::parse(&text).unwrap_err();
    assert!(
        matches!(&err, ProtocolError::Invalid { key, .. } if key == "endpoints[0].level"),
        "{err:?}"
    );
}

#[test]
fn date_with_time_is_not_a_planned_on_date() {
    let text = TEMPLATE.replace(
        "planned_on = 2026-11-25",
        "planned_on = 2026-11-25T10:00:00",
    );
    let err = Protocol::parse(&text).unwrap_err();
    assert!(err.hint().contains("planned_on = "), "{}", err.hint());
}

#[test]
fn empty_data_kinds_is_invalid() {
    let text = TEMPLATE.replace("data_kinds = [\"image\"]", "data_kinds = []");
    let err = Protocol::parse(&text).unwrap_err();
    assert!(err.to_string().contains("design.data_kinds"), "{err}");
}

#[test]
fn location_counts_characters_not_bytes() {
    let source = "a = \"日本\"\nb = 1";
    assert_eq!(
        Location::of_offset(source, source.find('b').unwrap()),
        Location { line: 2, column: 1 }
    );
    assert_eq!(
        Location::of_offset(source, 9),
        Location { line: 1, column: 7 }
    );
}

#[test]
fn checks_table_overrides_defaults_and_rejects_unknown_keys() {
    let protocol = Protocol::parse(TEMPLATE).unwrap();
    assert_eq!(protocol.checks.flat_line_s, Some(5.0));
    assert_eq!(
        (
            protocol.checks.clipping_fraction,
            protocol.checks.clipping_s
        ),
        (Some(0.01), Some(0.5))
    );
    assert_eq!(protocol.checks.age_years, Some([0.0, 120.0]));
    let text = TEMPLATE.replace("flat_line_s = 5", "flat_line_sec = 5");
    let ProtocolError::Syntax { location, message } = Protocol::parse(&text).unwrap_err() else {
        panic!("expected a syntax error")
    };
    let line = TEMPLATE
        .lines()
        .position(|l| l.starts_with("flat_line_s"))
        .unwrap()
        + 1;
    assert_eq!(location.line, line);
    assert!(message.contains("flat_line_sec"), "{message}");
}

#[test]
fn template_reference_and_analysis_tables_parse() {
    let protocol = Protocol::parse(TEMPLATE).unwrap();
    assert_eq!(protocol.reference.consensus, Consensus::Majority);
    assert_eq!(protocol.reference.minimum_reads, 3);
    assert_eq!(
        protocol.analysis.subgroups,
        [Subgroup::Provider, Subgroup::Sex, Subgroup::AgeBand]
    );
    assert_eq!(protocol.analysis.age_bands, [40.0, 65.0]);
    assert_eq!(protocol.analysis.score_threshold, Some(0.5));
}

#[test]
fn k_of_n_needs_k_within_the_reads() {
    let text = TEMPLATE.replace("consensus = \"majority\"", "consensus = \"k-of-n\"");
    let error = Protocol::parse(&text).unwrap_err();
    assert!(error.to_string().contains("`reference.k`"), "{error}");
    let text = text.replace("minimum_reads = 3", "minimum_reads = 3\nk = 4");
    let error = Protocol::parse(&text).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("between 1 and minimum_reads = 3"),
        "{error}"
    );
    let text = text.replace("k = 4", "k = 2");
    assert_eq!(Protocol::parse(&text).unwrap().reference.k, Some(2));
}

#[test]
fn k_without_k_of_n_is_refused() {
    let text = TEMPLATE.replace("minimum_reads = 3", "minimum_reads = 3\nk = 2");
    let error = Protocol::parse(&text).unwrap_err();
    assert!(
        error.to_string().contains("only to consensus = \"k-of-n\""),
        "{error}"
    );
}

#[test]
fn age_bands_must_increase() {
    let text = TEMPLATE.replace("age_bands = [40, 65]", "age_bands = [65, 40]");
    let error = Protocol::parse(&text).unwrap_err();
    assert!(
        error.to_string().contains("`analysis.age_bands`"),
        "{error}"
    );
    let text = TEMPLATE.replace("subgroups = [\"provider\"", "subgroups = [\"hospital\"");
    let error = Protocol::parse(&text).unwrap_err();
    assert!(error.to_string().contains("age-band"), "{error}");
}

#[test]
fn tables_declare_columns_and_reportable_ranges() {
    let table = "\n[[tables]]\nname = \"hba1c\"\ncolumns = [\"specimen_id\", \"hba1c_percent\"]\n[tables.reportable_range]\nhba1c_percent = [4.0, 18.5]\n";
    let protocol = Protocol::parse(&format!("{TEMPLATE}{table}")).unwrap();
    assert_eq!(protocol.tables[0].columns, ["specimen_id", "hba1c_percent"]);
    assert_eq!(
        protocol.tables[0].reportable_range["hba1c_percent"],
        [4.0, 18.5]
    );
    let wrong = table.replace("hba1c_percent = [4.0", "hba1c = [4.0");
    let error = Protocol::parse(&format!("{TEMPLATE}{wrong}")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`hba1c` is not among the table's columns"),
        "{error}"
    );
    let reversed = table.replace("[4.0, 18.5]", "[18.5, 4.0]");
    let error = Protocol::parse(&format!("{TEMPLATE}{reversed}")).unwrap_err();
    assert!(error.to_string().contains("is not a range"), "{error}");
}

/// The template with a `[lesions]` table before `[analysis]`.
fn with_lesions(table: &str) -> String {
    TEMPLATE.replace(
        "# 解析（kizon analyze）の設定",
        &format!("[lesions]\n{table}\n\n# 解析（kizon analyze）の設定"),
    )
}

#[test]
fn lesions_are_absent_by_default_and_parse_with_defaults() {
    assert_eq!(Protocol::parse(TEMPLATE).unwrap().lesions, None);
    let plan = Protocol::parse(&with_lesions(
        "criterion = \"distance\"\nradius = 10.0\nk = 2",
    ))
    .unwrap()
    .lesions
    .unwrap();
    assert_eq!(plan.criterion, LesionCriterion::Distance);
    assert_eq!(plan.radius, Some(10.0));
    assert_eq!(plan.units, LesionUnits::Mm);
    assert_eq!(plan.k, 2);
    assert!(plan.adjudication);
    assert_eq!(plan.duplicates, DuplicateMarks::Discard);
    let iou = Protocol::parse(&with_lesions(
        "criterion = \"iou\"\nthreshold = 0.3\nunits = \"pixels\"\nduplicates = \"false-positive\"",
    ))
    .unwrap()
    .lesions
    .unwrap();
    assert_eq!((iou.threshold, iou.k), (Some(0.3), 1));
}

#[test]
fn lesion_criterion_needs_its_parameter_and_only_it() {
    let error = Protocol::parse(&with_lesions("criterion = \"distance\"")).unwrap_err();
    assert!(error.to_string().contains("`lesions.radius`"), "{error}");
    let error = Protocol::parse(&with_lesions("criterion = \"iou\"\nthreshold = 1.5")).unwrap_err();
    assert!(error.to_string().contains("not in (0, 1]"), "{error}");
    let error = Protocol::parse(&with_lesions("criterion = \"inside\"\nradius = 3.0")).unwrap_err();
    assert!(error.to_string().contains("does not apply"), "{error}");
    let error = Protocol::parse(&with_lesions("criterion = \"inside\"\nk = 0")).unwrap_err();
    assert!(error.to_string().contains("`lesions.k`"), "{error}");
    let error = Protocol::parse(&with_lesions("criterion = \"near\"")).unwrap_err();
    assert!(error.to_string().contains("near"), "{error}");
}

#[test]
fn specimens_fix_their_limits_in_the_protocol() {
    let text = format!(
        "{TEMPLATE}\n[specimens]\ncollection_start = 2026-04-01\nunit = \"mmol/mol\"\n\
         measuring_interval = [20, 195]\nmax_freeze_thaw = 1\nmax_hours_between_methods = 24\n\
         [specimens.hil]\nhaemolysis = 100\n\
         [specimens.stability.whole-blood]\nroom = \"8h\"\nrefrigerated = \"7d\"\n\
         [specimens.stability.serum]\ndeep-frozen = \"365d\"\n"
    );
    let plan = Protocol::parse(&text).unwrap().specimens.unwrap();
    assert_eq!(plan.collection_start.unwrap().to_string(), "2026-04-01");
    assert_eq!(plan.measuring_interval, Some([20.0, 195.0]));
    assert_eq!(plan.hil.haemolysis, Some(100.0));
    use kizon_vocab::{SpecimenType, StorageTemperature};
    assert_eq!(
        plan.stability[&SpecimenType::WholeBlood][&StorageTemperature::Refrigerated],
        168.0
    );
    assert_eq!(
        plan.stability[&SpecimenType::Serum][&StorageTemperature::DeepFrozen],
        365.0 * 24.0
    );
    // The template's commented section parses when uncommented.
    let section =
        &TEMPLATE[TEMPLATE.find("# [specimens]").unwrap()..TEMPLATE.find("# 相関性試験").unwrap()];
    let uncommented: String = section
        .lines()
        .filter(|l| l.starts_with("# [") || l.starts_with("# ") && l.contains(" = "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let plan = Protocol::parse(&format!("{TEMPLATE}\n{uncommented}"))
        .unwrap()
        .specimens
        .unwrap();
    assert_eq!(plan.stability[&SpecimenType::WholeBlood].len(), 3);
}

#[test]
fn a_bad_specimen_limit_names_its_key_and_line() {
    for (section, key) in [
        (
            "[specimens.stability.serum]\nroom = \"a week\"\n",
            "specimens.stability.serum.room",
        ),
        (
            "[specimens]\nmeasuring_interval = [5, 1]\n",
            "specimens.measuring_interval",
        ),
        (
            "[specimens.hil]\nhaemolysis = nan\n",
            "specimens.hil.haemolysis",
        ),
        (
            "[specimens]\ncollection_start = 2026-04-01T08:00:00\n",
            "specimens.collection_start",
        ),
    ] {
        let text = format!("{TEMPLATE}\n{section}");
        let error = Protocol::parse(&text).unwrap_err();
        // The key's line, or its table's header line for a table of limits.
        let line = TEMPLATE.lines().count() + 3;
        assert!(error.to_string().contains(key), "{error}");
        assert!(
            error.to_string().starts_with(&format!("{line}:"))
                || error.to_string().starts_with(&format!("{}:", line - 1)),
            "{error}"
        );
    }
    // A storage word that is not one of the bands is refused with the line.
    let error = Protocol::parse(&format!(
        "{TEMPLATE}\n[specimens.stability.serum]\ncold = \"8h\"\n"
    ))
    .unwrap_err();
    assert!(error.to_string().contains("cold"), "{error}");
}

#[test]
fn method_comparisons_are_fixed_with_their_criteria() {
    let specimen_design =
        TEMPLATE.replace("data_kinds = [\"image\"]", "data_kinds = [\"specimen\"]");
    let text = format!(
        "{specimen_design}\n[[method_comparison]]\nid = \"pb\"\nmethod = \"passing-bablok\"\n\
         decision_points = [6.5, 8]\nslope_ci_within = [0.9, 1.1]\nbias_within = [-0.3, 0.3]\n\
         [[method_comparison]]\nid = \"ba\"\nmethod = \"bland-altman\"\nlevel = 0.9\n"
    );
    let protocol = Protocol::parse(&text).unwrap();
    let [pb, ba] = &protocol.method_comparisons[..] else {
        panic!("two plans: {:?}", protocol.method_comparisons)
    };
    assert_eq!(pb.method, ComparisonMethod::PassingBablok);
    assert_eq!(pb.decision_points, [6.5, 8.0]);
    assert_eq!(pb.slope_ci_within, Some([0.9, 1.1]));
    assert_eq!((pb.level, pb.error_ratio), (0.95, 1.0));
    assert_eq!(ba.level, 0.9);

    // The template's commented example parses when uncommented.
    let example: String = TEMPLATE[TEMPLATE.find("# [[method_comparison]]").unwrap()..]
        .lines()
        .filter(|l| l.starts_with("# [[") || l.starts_with("# ") && l.contains(" = "))
        .filter(|l| !l.contains("\"passing-bablok\" |"))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let plan = &Protocol::parse(&format!("{specimen_design}\n{example}"))
        .unwrap()
        .method_comparisons[0];
    assert_eq!(plan.bias_within, Some([-2.0, 2.0]));

    for (bad, key) in [
        (
            "method = \"bland-altman\"\nslope_ci_within = [0.9, 1.1]",
            "slope_ci_within",
        ),
        ("method = \"deming\"\nbias_within = [-1, 1]", "bias_within"),
        ("method = \"deming\"\nerror_ratio = 0", "error_ratio"),
        ("method = \"ols\"\nlevel = 95", "level"),
        (
            "method = \"ols\"\nintercept_ci_within = [1, -1]",
            "intercept_ci_within",
        ),
    ] {
        let text = format!("{specimen_design}\n[[method_comparison]]\nid = \"m\"\n{bad}\n");
        let error = Protocol::parse(&text).unwrap_err();
        assert!(error.to_string().contains(key), "{bad}: {error}");
    }
    // Without specimens there is nothing to compare (Q4).
    let error = Protocol::parse(&format!(
        "{TEMPLATE}\n[[method_comparison]]\nid = \"m\"\nmethod = \"ols\"\n"
    ))
    .unwrap_err();
    assert!(error.to_string().contains("specimen"), "{error}");
}

/// The template with its `[reading]` table replaced by `reading`.
fn with_reading(reading: &str) -> String {
    let start = TEMPLATE.find("[reading]").unwrap();
    let end = start + TEMPLATE[start..].find("\n\n# 検体").unwrap();
    format!("{}{}{}", &TEMPLATE[..start], reading, &TEMPLATE[end..])
}

fn invalid_key(text: &str) -> (String, String) {
    match Protocol::parse(text).unwrap_err() {
        ProtocolError::Invalid { key, message, .. } => (key, message),
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

/// Sessions, the rating scale, window presets and lesion types are read as written; a
/// protocol without sessions has the one reference-panel session it always had.
#[test]
fn reading_sessions_scale_presets_and_lesion_types_are_read() {
    let plan = Protocol::parse(TEMPLATE).unwrap().reading;
    let sessions = plan.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (sessions[0].id.as_str(), sessions[0].modality.as_deref()),
        ("panel", None)
    );
    let text = with_reading(
        "[reading]\nrating_scale = [1, 5]\nwindow_presets = [\"lung\", { name = \"liver\", center = 60, width = 160 }]\n\
         [[reading.sessions]]\nid = \"S1\"\nmodality = \"unaided\"\n\
         [[reading.sessions]]\nid = \"S2\"\nmodality = \"aided\"\nwashout_days = 28\ncase_read = \"label-and-score\"",
    );
    let plan = Protocol::parse(&text).unwrap().reading;
    let scale = plan.rating_scale.unwrap();
    assert!(scale.integer && scale.admits(1.0) && scale.admits(5.0));
    assert!(!scale.admits(0.0) && !scale.admits(2.5) && !scale.admits(f64::NAN));
    assert_eq!(plan.window_presets[0].center, -600.0);
    assert_eq!(plan.window_presets[1].width, 160.0);
    let sessions = plan.sessions();
    assert_eq!(
        sessions[0].case_read,
        CaseRead::Score,
        "a reader-study session asks for a score"
    );
    assert_eq!(sessions[1].washout_days, 28);
    assert_eq!(sessions[1].case_read, CaseRead::LabelAndScore);
    let real = Protocol::parse(&with_reading("[reading]\nrating_scale = [0.0, 1.0]"))
        .unwrap()
        .reading
        .rating_scale
        .unwrap();
    assert!(!real.integer && real.admits(0.25));
    let text = TEMPLATE
        .replace("# [lesions]", "[lesions]")
        .replace("# criterion", "criterion")
        .replace("# radius", "radius")
        .replace("# types", "types");
    let lesions = Protocol::parse(&text).unwrap().lesions.unwrap();
    assert_eq!(lesions.types, ["solid", "part-solid", "ground-glass"]);
    let twice = text.replace("\"part-solid\"", "\"solid\"");
    assert_eq!(invalid_key(&twice).0, "lesions.types");
}

/// Every contradiction in `[reading]` names its key.
#[test]
fn reading_mistakes_name_their_key() {
    let session = |body: &str| {
        with_reading(&format!(
            "[reading]\n[[reading.sessions]]\nid = \"S1\"\nmodality = \"unaided\"\n[[reading.sessions]]\n{body}"
        ))
    };
    for (text, key, says) in [
        (
            with_reading("[reading]\nrating_scale = [5, 1]"),
            "reading.rating_scale",
            "low < high",
        ),
        (
            with_reading("[reading]\nrating_scale = [\"a\", 1]"),
            "reading.rating_scale",
            "low < high",
        ),
        (
            with_reading("[reading]\nwindow_presets = [\"lungs\"]"),
            "reading.window_presets",
            "not a window",
        ),
        (
            with_reading("[reading]\nwindow_presets = [\"lung\", \"lung\"]"),
            "reading.window_presets",
            "named twice",
        ),
        (
            with_reading("[reading]\nwindow_presets = [{ name = \"x\", center = 1, width = 0 }]"),
            "reading.window_presets",
            "width of at least 1",
        ),
        (
            session("id = \"S1\"\nmodality = \"aided\""),
            "reading.sessions[1].id",
            "declared twice",
        ),
        (
            session("id = \"S2\"\nmodality = \"unaided\""),
            "reading.sessions[1].modality",
            "two sessions read in condition `unaided`",
        ),
        (
            session("id = \"S 2\""),
            "reading.sessions[1].id",
            "not a session id",
        ),
        (
            session("id = \"S2\"\nmodality = \"with ai\""),
            "reading.sessions[1].modality",
            "not a reading condition",
        ),
        (
            session("id = \"S2\"\nmodality = \"aided\"\ncase_read = \"label\""),
            "reading.sessions[1].case_read",
            "needs a score",
        ),
        (
            with_reading("[reading]\n[[reading.sessions]]\nid = \"S1\"\nwashout_days = 7"),
            "reading.sessions[0].washout_days",
            "first session",
        ),
    ] {
        let (got, message) = invalid_key(&text);
        assert_eq!(got, key, "{message}");
        assert!(message.contains(says), "{key}: {message}");
    }
}

/// Q7's SDV needs a way back to the source records: anonymously processed information has none.
#[test]
fn sdv_of_anonymized_data_is_a_contradiction_naming_both_keys() {
    let text = with_design(
        "[design]\nlinked_clinical_info = true\nreference_standard = \"confirmed-diagnosis\"\n\
         privacy = \"anonymized\"\ncorrespondence_table = \"none\"\ndata_kinds = [\"image\"]\n\
         source_data_verification = \"full\"",
    );
    let error = Protocol::parse(&text).unwrap_err().to_string();
    assert!(
        error.contains("design.source_data_verification")
            && error.contains("design.privacy")
            && error.contains("[Q7]"),
        "{error}"
    );
    let none = text.replace("\"full\"", "\"none\"");
    let protocol = Protocol::parse(&none).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        protocol.design.source_data_verification,
        Some(SourceDataVerification::None)
    );
    let unknown = text.replace("\"full\"", "\"some\"");
    let error = Protocol::parse(&unknown).unwrap_err().to_string();
    assert!(
        error.contains("`some`") && error.contains("sampled"),
        "{error}"
    );
}
