//! Reciprocity of a tie: who answers whom and who starts the exchanges,
//! from the interactions' initiators and their reply links (an e-mail's
//! `In-Reply-To`). Evidence shown beside a tie; it does not change the
//! closeness score (DESIGN.md lets reciprocity modulate, but raw closeness
//! stays reproducible from the interactions and weights alone).

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Interaction, InteractionId, PersonId};
use crate::time::Timestamp;

/// Between one of our people (`ours`) and a stakeholder (`theirs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reciprocity {
    /// E-mails `ours` started with `theirs` among the participants, and how
    /// many of them `theirs` answered (a stored reply whose `In-Reply-To`
    /// names it).
    pub ours_emails: u32,
    pub ours_emails_answered: u32,
    /// The same the other way round.
    pub their_emails: u32,
    pub their_emails_answered: u32,
    /// Interactions of both that answer none of theirs (each opens an
    /// exchange), and how many each side started.
    pub exchanges: u32,
    pub started_by_ours: u32,
    pub started_by_theirs: u32,
}

impl Reciprocity {
    /// True when there is nothing to say (no interaction between them).
    pub fn is_empty(&self) -> bool {
        self.exchanges == 0 && self.ours_emails == 0 && self.their_emails == 0
    }

    /// "Carla replied to 6 of Ana's 8 e-mails; Ana replied to 5 of Carla's
    /// 7; Carla started 4 of 12 exchanges".
    pub fn text(&self, ours: &str, theirs: &str) -> String {
        let mut parts = Vec::new();
        let emails = |n: u32| if n == 1 { "e-mail" } else { "e-mails" };
        if self.ours_emails > 0 {
            parts.push(format!(
                "{theirs} replied to {} of {ours}'s {} {}",
                self.ours_emails_answered,
                self.ours_emails,
                emails(self.ours_emails)
            ));
        }
        if self.their_emails > 0 {
            parts.push(format!(
                "{ours} replied to {} of {theirs}'s {} {}",
                self.their_emails_answered,
                self.their_emails,
                emails(self.their_emails)
            ));
        }
        if self.exchanges > 0 {
            parts.push(format!(
                "{theirs} started {} of {} exchange{}",
                self.started_by_theirs,
                self.exchanges,
                if self.exchanges == 1 { "" } else { "s" }
            ));
        }
        parts.join("; ")
    }
}

/// The reciprocity of each `(ours, theirs)` pair in `pairs` from the
/// interactions up to `as_of`, in one pass over them (an account's scoring
/// computes it for all its ties at once, so pages and the API only read it).
pub fn for_pairs(
    interactions: &[Interaction],
    pairs: &[(PersonId, PersonId)],
    as_of: Timestamp,
) -> Vec<Reciprocity> {
    let mut out = vec![Reciprocity::default(); pairs.len()];
    if pairs.is_empty() {
        return out;
    }
    let index: FxHashMap<(&PersonId, &PersonId), usize> = pairs
        .iter()
        .enumerate()
        .map(|(k, (o, t))| ((o, t), k))
        .collect();
    let live = || interactions.iter().filter(move |i| i.at <= as_of);
    // Reply links are rare outside mailboxes: no map is built without them.
    let mut replies: FxHashMap<&InteractionId, Vec<&PersonId>> = FxHashMap::default();
    for i in live() {
        if let Some(to) = &i.in_reply_to {
            replies.entry(to).or_default().push(&i.initiator);
        }
    }
    let by_id: FxHashMap<&InteractionId, &Interaction> = if replies.is_empty() {
        FxHashMap::default()
    } else {
        live().map(|i| (&i.id, i)).collect()
    };
    for i in live() {
        for (a, ours) in i.participants.iter().enumerate() {
            if i.participants[..a].contains(ours) {
                continue;
            }
            for (b, theirs) in i.participants.iter().enumerate() {
                if i.participants[..b].contains(theirs) {
                    continue;
                }
                let Some(&k) = index.get(&(ours, theirs)) else {
                    continue;
                };
                let r = &mut out[k];
                let both = |x: &Interaction| {
                    x.participants.contains(ours) && x.participants.contains(theirs)
                };
                let answers_them = i
                    .in_reply_to
                    .as_ref()
                    .and_then(|to| by_id.get(to))
                    .is_some_and(|to| both(to));
                if !answers_them {
                    r.exchanges += 1;
                    if i.initiator == *ours {
                        r.started_by_ours += 1;
                    } else if i.initiator == *theirs {
                        r.started_by_theirs += 1;
                    }
                }
                if i.kind != crate::model::InteractionKind::Email {
                    continue;
                }
                let answered_by =
                    |who: &PersonId| replies.get(&i.id).is_some_and(|rs| rs.contains(&who));
                if i.initiator == *ours {
                    r.ours_emails += 1;
                    r.ours_emails_answered += u32::from(answered_by(theirs));
                } else if i.initiator == *theirs {
                    r.their_emails += 1;
                    r.their_emails_answered += u32::from(answered_by(ours));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InteractionKind;

    fn end() -> Timestamp {
        Timestamp::from_epoch_seconds(1 << 40)
    }

    fn p(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn mail(id: &str, from: &str, to: &[&str], reply_to: Option<&str>) -> Interaction {
        let mut participants = vec![p(from)];
        participants.extend(to.iter().map(|t| p(t)));
        Interaction {
            id: InteractionId::parse(id).unwrap(),
            kind: InteractionKind::Email,
            at: Timestamp::from_epoch_seconds(id.len() as i64),
            initiator: p(from),
            participants,
            in_reply_to: reply_to.map(|r| InteractionId::parse(r).unwrap()),
        }
    }

    /// Ana (ours) writes Carla four times; Carla answers two of them, and
    /// Ana answers Carla's answer once; Carla opens one thread herself,
    /// which nobody answers; a meeting Carla called; a reply to a message
    /// outside the slice; an e-mail of Ana's to someone else.
    fn fixture() -> Vec<Interaction> {
        let mut meeting = mail("m1", "carla", &["ana"], None);
        meeting.kind = InteractionKind::Meeting;
        vec![
            mail("a1", "ana", &["carla"], None),
            mail("c1", "carla", &["ana"], Some("a1")),
            mail("a2", "ana", &["carla"], Some("c1")),
            mail("a3", "ana", &["carla", "dev"], None),
            mail("c3", "carla", &["ana", "dev"], Some("a3")),
            mail("a4", "ana", &["carla"], None),
            mail("a5", "ana", &["carla"], Some("not-stored")),
            mail("c9", "carla", &["ana"], None),
            meeting,
            mail("x1", "ana", &["dev"], None),
            mail("x2", "dev", &["ana"], Some("a4")),
        ]
    }

    #[test]
    fn replies_and_starts_are_counted_per_side() {
        let r = for_pairs(&fixture(), &[(p("ana"), p("carla"))], end()).remove(0);
        assert_eq!(
            r,
            Reciprocity {
                ours_emails: 5,          // a1 a2 a3 a4 a5
                ours_emails_answered: 2, // a1 (c1), a3 (c3); a4's answer came from Dev
                their_emails: 3,         // c1 c3 c9
                their_emails_answered: 1,
                exchanges: 6, // a1 a3 a4 a5 c9 m1: c1, a2 and c3 answer
                started_by_ours: 4,
                started_by_theirs: 2,
            }
        );
        assert_eq!(
            r.text("Ana", "Carla"),
            "Carla replied to 2 of Ana's 5 e-mails; Ana replied to 1 of Carla's 3 e-mails; Carla started 2 of 6 exchanges"
        );
    }

    #[test]
    fn a_pair_without_interactions_has_nothing_to_say() {
        let r = for_pairs(&fixture(), &[(p("ana"), p("nobody"))], end()).remove(0);
        assert!(r.is_empty());
        assert_eq!(r.text("Ana", "Nobody"), "");
    }

    #[test]
    fn pairs_asked_together_answer_as_asked_alone() {
        let pairs = [
            (p("ana"), p("carla")),
            (p("ana"), p("dev")),
            (p("carla"), p("dev")),
        ];
        let together = for_pairs(&fixture(), &pairs, end());
        for (pair, r) in pairs.iter().zip(&together) {
            assert_eq!(
                for_pairs(&fixture(), std::slice::from_ref(pair), end())[0],
                *r
            );
        }
        assert_eq!(together[1].ours_emails, 2, "a3, x1");
        assert_eq!(together[1].their_emails_answered, 0);
    }

    #[test]
    fn only_what_happened_by_as_of_counts() {
        let mut ix = fixture();
        for (k, i) in ix.iter_mut().enumerate() {
            i.at = Timestamp::from_epoch_seconds(k as i64);
        }
        let ana_carla = [(p("ana"), p("carla"))];
        // As of a1: one e-mail of Ana's, not answered yet.
        let r = for_pairs(&ix, &ana_carla, Timestamp::from_epoch_seconds(0)).remove(0);
        let only_a1 = Reciprocity {
            ours_emails: 1,
            exchanges: 1,
            started_by_ours: 1,
            ..Default::default()
        };
        assert_eq!(r, only_a1);
        // As of c1, Carla's answer: a1 is answered, and c1 starts nothing.
        let r = for_pairs(&ix, &ana_carla, Timestamp::from_epoch_seconds(1)).remove(0);
        assert_eq!(
            r,
            Reciprocity {
                ours_emails_answered: 1,
                their_emails: 1,
                ..only_a1
            }
        );
    }
}
