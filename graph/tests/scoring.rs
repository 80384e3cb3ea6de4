//! The account path end to end on a small hand-made account: explanations add
//! up, assessments blend, paths carry their reasons, coverage and "what if"
//! report what they should.

use renmai_graph::closeness::{account_ties, evidence, level_of};
use renmai_graph::coverage::GroupKey;
use renmai_graph::paths::HopReason;
use renmai_graph::*;

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}
fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn person(id: &str, org: &str, level: u8, dept: &str, boss: Option<&str>) -> Person {
    Person {
        id: pid(id),
        org: OrgId::parse(org).unwrap(),
        name: id.to_uppercase(),
        title: None,
        department: Some(dept.into()),
        level: Level::new(level).unwrap(),
        emails: vec![],
        external_ids: vec![],
        phones: vec![],
        reports_to: boss.map(pid),
        role: None,
        attitude: None,
    }
}

fn meet(id: u32, kind: InteractionKind, at: &str, who: &[&str]) -> Interaction {
    Interaction {
        id: InteractionId::parse(&id.to_string()).unwrap(),
        kind,
        at: ts(at),
        initiator: pid(who[0]),
        participants: who.iter().map(|w| pid(w)).collect(),
        in_reply_to: None,
    }
}

const AS_OF: &str = "2026-01-01T00:00:00Z";

/// Acme: ceo (economic buyer) ← cfo, cto (technical buyer, skeptic) ← eng.
/// Ours: ae (account executive), se (solutions engineer).
fn acme() -> AccountData {
    let org = |o: &str| OrgId::parse(o).unwrap();
    let mut ceo = person("ceo", "acme", 1, "Executive", None);
    ceo.role = Some(BuyingRole::EconomicBuyer);
    let cfo = person("cfo", "acme", 1, "Finance", Some("ceo"));
    let mut cto = person("cto", "acme", 1, "IT", Some("ceo"));
    cto.role = Some(BuyingRole::TechnicalBuyer);
    cto.attitude = Some(Attitude::Skeptic);
    let mut eng = person("eng", "acme", 4, "IT", Some("cto"));
    eng.role = Some(BuyingRole::Coach);
    let mut i = 0;
    let mut next = || {
        i += 1;
        i
    };
    let mut interactions = vec![];
    for m in ["2025-10-01", "2025-11-01", "2025-12-01", "2025-12-15"] {
        interactions.push(meet(next(), InteractionKind::Meeting, m, &["se", "eng"]));
        interactions.push(meet(next(), InteractionKind::Email, m, &["eng", "se"]));
    }
    interactions.push(meet(
        next(),
        InteractionKind::Dinner,
        "2025-09-01",
        &["ae", "cfo"],
    ));
    interactions.push(meet(
        next(),
        InteractionKind::Call,
        "2025-12-20",
        &["ae", "cfo"],
    ));
    // A workshop of four: each (ours, theirs) pair gets 3 / 3 = 1.
    interactions.push(meet(
        next(),
        InteractionKind::Workshop,
        "2025-12-10",
        &["se", "eng", "cto", "ae"],
    ));
    // After as_of: ignored.
    interactions.push(meet(
        next(),
        InteractionKind::Dinner,
        "2026-02-01",
        &["ae", "ceo"],
    ));
    AccountData {
        account: Organization {
            id: org("acme"),
            name: "Acme".into(),
            industry: None,
            region: None,
            tier: None,
            is_ours: false,
            parent: None,
        },
        people: vec![ceo, cfo, cto, eng],
        our_people: vec![
            person("ae", "us", 4, "Sales", None),
            person("se", "us", 4, "Presales", None),
        ],
        team: vec![
            TeamMember {
                org: org("acme"),
                person: pid("ae"),
                role: TeamRole::AccountExecutive,
            },
            TeamMember {
                org: org("acme"),
                person: pid("se"),
                role: TeamRole::SolutionsEngineer,
            },
        ],
        interactions,
        influences: vec![Influence {
            from: pid("cfo"),
            to: pid("ceo"),
            kind: InfluenceKind::TrustedAdvisor,
            strength: Strength::new(0.9).unwrap(),
        }],
        assessments: vec![
            Assessment {
                from: pid("ae"),
                to: pid("cfo"),
                level: ClosenessLevel::FAMILIAR,
                at: ts("2025-06-01T00:00:00Z"),
                by: Some(pid("ae")),
            },
            // Later, other direction: this one wins.
            Assessment {
                from: pid("cfo"),
                to: pid("ae"),
                level: ClosenessLevel::TRUSTED,
                at: ts("2025-11-01T00:00:00Z"),
                by: Some(pid("ae")),
            },
        ],
        opportunities: vec![],
        opportunity_contacts: vec![],
        opportunity_stages: vec![],
    }
}

#[test]
fn explanation_parts_add_up() {
    let cfg = ScoringConfig::default();
    let ties = account_ties(&acme(), &cfg, ts(AS_OF));
    assert!(!ties.is_empty());
    for t in &ties {
        let e = &t.explanation;
        let by_kind: f64 = e.by_kind.iter().map(|k| k.raw).sum();
        assert!((by_kind - e.raw).abs() < 1e-12, "{t:?}");
        assert!((e.evidence - evidence(e.raw, cfg.evidence_scale)).abs() < 1e-15);
        assert!((e.evidence_part + e.assessed_part - t.closeness).abs() < 1e-15);
        assert_eq!(t.level, level_of(t.closeness));
        assert_eq!(
            e.interactions,
            e.by_kind.iter().map(|k| k.count).sum::<u32>()
        );
    }
    // The workshop of four gave each pair weight 3 / 3.
    let se_cto = ties
        .iter()
        .find(|t| t.ours == pid("se") && t.theirs == pid("cto"))
        .unwrap();
    assert_eq!(se_cto.explanation.by_kind.len(), 1);
    assert!((se_cto.explanation.by_kind[0].weight - 1.0).abs() < 1e-15);
    // No tie between two of our people, none with the CEO (future dinner ignored).
    assert!(ties.iter().all(|t| t.theirs != pid("ceo")));
    // The workshop also links the two stakeholders who attended (eng, cto).
    let links = renmai_graph::closeness::stakeholder_links(&acme(), &cfg, ts(AS_OF));
    assert_eq!(links.len(), 1);
    assert_eq!((links[0].a.as_str(), links[0].b.as_str()), ("cto", "eng"));
    assert_eq!(links[0].interactions, 1);
    assert!((links[0].closeness - evidence(links[0].raw, 10.0)).abs() < 1e-15);
}

#[test]
fn latest_assessment_blends_with_trust() {
    let cfg = ScoringConfig::default();
    let ties = account_ties(&acme(), &cfg, ts(AS_OF));
    let t = ties
        .iter()
        .find(|t| t.ours == pid("ae") && t.theirs == pid("cfo"))
        .unwrap();
    let a = t.explanation.assessment.as_ref().expect("assessed");
    assert_eq!(a.level, ClosenessLevel::TRUSTED);
    assert!((a.age_days - 61.0).abs() < 1e-9);
    let trust = 2f64.powf(-61.0 / 180.0);
    assert!((a.trust - trust).abs() < 1e-12);
    let expect = trust * 0.75 + (1.0 - trust) * t.explanation.evidence;
    assert!((t.closeness - expect).abs() < 1e-12);
    let lift = t.explanation.lift.as_ref().unwrap();
    assert!(lift.text.contains(lift.next_level.name()), "{}", lift.text);
}

#[test]
fn score_account_end_to_end() {
    let cfg = ScoringConfig::default();
    let data = acme();
    let s = score_account(&data, &cfg, ts(AS_OF));
    assert!((0.0..=1.0).contains(&s.relationship_index));
    assert_eq!(s.stakeholders.len(), 4);
    // Influence is normalised to a max of 1; the CEO has the most.
    let maxi = s
        .stakeholders
        .iter()
        .map(|x| x.influence.influence)
        .fold(0.0, f64::max);
    assert!((maxi - 1.0).abs() < 1e-12);
    let ceo = &s.stakeholders[0];
    assert_eq!(ceo.influence.influence, 1.0);
    assert_eq!(ceo.closeness.best_connector, None);
    // Influence parts add up.
    for x in &s.stakeholders {
        let i = &x.influence;
        let sum = i.pagerank_part + i.level_part + i.role_part;
        assert!((sum / i.account_max_blend - i.influence).abs() < 1e-12);
    }
    // The CEO is reached through the CFO (trusted advisor 0.9 beats reports-to 0.6).
    let p = ceo.best_path.as_ref().expect("CEO reachable");
    assert_eq!(p.seller, pid("ae"));
    assert_eq!(p.hops.len(), 2);
    assert!(matches!(
        p.hops[1].reason,
        HopReason::Influence {
            from_has_sway: true,
            ..
        }
    ));
    let prod: f64 = p.hops.iter().map(|h| h.strength).product();
    assert!((prod - p.strength).abs() < 1e-12);
    // k paths: cheapest first, all simple.
    let k = warm_paths(&data, &cfg, ts(AS_OF), &pid("ceo"), 4);
    assert!(k.len() >= 2);
    assert!(k.windows(2).all(|w| w[0].cost <= w[1].cost + 1e-15));
    assert!((k[0].strength - p.strength).abs() < 1e-12);
    // Coverage: the CEO's level-1 group is covered by the CFO; Executive is a gap.
    assert!(
        s.coverage
            .gaps
            .contains(&GroupKey::Department("Executive".into()))
    );
    assert!(
        s.coverage
            .gaps
            .contains(&GroupKey::Role(BuyingRole::EconomicBuyer))
    );
    assert!(s.coverage.roles_missing.contains(&BuyingRole::UserBuyer));
    assert_eq!(s.coverage.detractors.len(), 1);
    // Every warm path to the economic buyer goes through the CFO and the AE?
    let dep = &s.coverage.dependencies[0];
    assert!(dep.reachable);
    // Next approaches: the CEO first (most influence, no tie, reachable).
    assert_eq!(s.next_approaches[0].person, pid("ceo"));
    assert!(s.next_approaches[0].why.contains("CEO"));
    assert!(
        s.next_approaches
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
    // Serializes and round-trips.
    let json = serde_json::to_string(&s).unwrap();
    let back: AccountScores = serde_json::from_str(&json).unwrap();
    assert_eq!(back.account, s.account);
    assert_eq!(back.stakeholders.len(), 4);
}

#[test]
fn cut_people_and_what_if() {
    let cfg = ScoringConfig::default();
    let mut data = acme();
    // Make the CFO the only way in: drop the reports-to lines to the CEO.
    for p in &mut data.people {
        if p.id == pid("cto") {
            p.reports_to = None;
        }
    }
    let s = score_account(&data, &cfg, ts(AS_OF));
    let dep = &s.coverage.dependencies[0];
    assert_eq!(dep.economic_buyer, pid("ceo"));
    assert!(dep.cut_people.contains(&pid("cfo")), "{dep:?}");
    assert!(dep.cut_people.contains(&pid("ae")), "{dep:?}");
    let w = what_if_leaves(&data, &cfg, ts(AS_OF), &pid("ae"));
    assert!(w.unreachable.contains(&pid("ceo")), "{w:?}");
    assert!(w.unreachable.contains(&pid("cfo")));
    assert!(w.ties_lost >= 2);
    assert!(w.index_after <= w.index_before);
}

#[test]
fn coverage_threshold_is_a_parameter_and_batches_match() {
    let data = acme();
    let strict = ScoringConfig::default();
    let loose = ScoringConfig {
        coverage_threshold: 0.01,
        ..ScoringConfig::default()
    };
    let a = score_account(&data, &strict, ts(AS_OF));
    let b = score_account(&data, &loose, ts(AS_OF));
    assert!(b.coverage.gaps.len() <= a.coverage.gaps.len());
    assert!(b.coverage.strong_stakeholders >= a.coverage.strong_stakeholders);
    let many = score_accounts(&[data.clone(), data], &strict, ts(AS_OF));
    assert_eq!(many.len(), 2);
    assert_eq!(many[0], a);
}

#[test]
fn knows_between_stakeholders_is_a_hop_and_texts_read_well() {
    let cfg = ScoringConfig::default();
    let mut data = acme();
    // Only the CTO line reaches the CEO now: drop the CFO's influence and
    // every reports-to line, then add a fresh "ally" assessment CTO–CEO.
    data.influences.clear();
    for p in &mut data.people {
        p.reports_to = None;
    }
    data.assessments.push(Assessment {
        from: pid("cto"),
        to: pid("ceo"),
        level: ClosenessLevel::ALLY,
        at: ts("2025-12-30T00:00:00Z"),
        by: Some(pid("se")),
    });
    let paths = warm_paths(&data, &cfg, ts(AS_OF), &pid("ceo"), 3);
    assert!(!paths.is_empty());
    let last = paths[0].hops.last().unwrap();
    assert!(matches!(last.reason, HopReason::Knows { .. }), "{last:?}");
    assert_eq!(last.strength, 1.0);
    assert!(last.text.contains("ally"), "{}", last.text);
    assert!(
        paths[0].hops[0].text.contains("knows"),
        "{}",
        paths[0].hops[0].text
    );
    // Losing the solutions engineer keeps the CEO reachable: the AE was at the
    // workshop with the CTO too, and that interaction still counts for the AE.
    let w = what_if_leaves(&data, &cfg, ts(AS_OF), &pid("se"));
    assert!(!w.unreachable.contains(&pid("ceo")), "{w:?}");
}

#[test]
fn empty_and_unconnected_accounts_score() {
    let cfg = ScoringConfig::default();
    let mut data = acme();
    data.people.clear();
    data.interactions.clear();
    data.influences.clear();
    data.assessments.clear();
    let s = score_account(&data, &cfg, ts(AS_OF));
    assert_eq!(s.relationship_index, 0.0);
    assert!(s.stakeholders.is_empty() && s.next_approaches.is_empty());
    assert_eq!(s.coverage.coverage, 1.0);
    // People but no team and no interactions: nothing reachable, every group a gap.
    let mut lonely = acme();
    lonely.team.clear();
    lonely.interactions.clear();
    lonely.assessments.clear();
    let s = score_account(&lonely, &cfg, ts(AS_OF));
    assert!(s.stakeholders.iter().all(|x| x.best_path.is_none()));
    assert_eq!(s.coverage.gaps.len(), s.coverage.groups.len());
    assert!(!s.coverage.dependencies[0].reachable);
    assert!(s.next_approaches.is_empty());
}

#[test]
fn open_opportunities_get_their_own_coverage() {
    let cfg = ScoringConfig::default();
    let mut data = acme();
    let opp = |id: &str, status| Opportunity {
        id: OpportunityId::parse(id).unwrap(),
        account: OrgId::parse("acme").unwrap(),
        name: id.into(),
        amount: None,
        stage: None,
        status,
        close_date: None,
        owner: None,
        competitors: vec![],
    };
    data.opportunities = vec![
        opp("renewal", OpportunityStatus::Open),
        opp("old", OpportunityStatus::Lost),
    ];
    let contact = |person: &str, role| OpportunityContact {
        opportunity: OpportunityId::parse("renewal").unwrap(),
        person: pid(person),
        role,
        attitude: None,
        solution_acceptance: None,
        price_acceptance: None,
        at: None,
    };
    // In this deal the CFO is the economic buyer (account-level: none).
    data.opportunity_contacts = vec![
        contact("cfo", Some(BuyingRole::EconomicBuyer)),
        contact("eng", None),
    ];
    let s = score_account(&data, &cfg, ts(AS_OF));
    assert_eq!(s.opportunities.len(), 1);
    let o = &s.opportunities[0];
    assert_eq!(o.contacts, 2);
    let eb = o
        .groups
        .iter()
        .find(|g| g.group == GroupKey::Role(BuyingRole::EconomicBuyer))
        .unwrap();
    assert_eq!(eb.closest.as_ref().unwrap().0, pid("cfo"));
    assert!(o.roles_missing.contains(&BuyingRole::TechnicalBuyer));
    assert!(!o.roles_missing.contains(&BuyingRole::Coach)); // eng is the coach
    assert!((0.0..=1.0).contains(&o.coverage));
}
