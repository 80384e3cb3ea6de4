//! The built-in demo dataset: a believable key-account book of business
//! for the fictional vendor Northwind Systems, generated in code.
//!
//! Everything is deterministic: the content comes from a fixed-seed
//! splitmix64 generator, and every date is counted back from the `today`
//! the caller passes (never from the wall clock), so the demo never goes
//! stale and two calls with the same `today` give equal bundles.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use renmai_graph::{
    Assessment, Attitude, BuyingRole, ClosenessLevel, Email, ExternalId, Influence, InfluenceKind,
    Interaction, InteractionId, InteractionKind, Level, Opportunity, OpportunityContact,
    OpportunityId, OpportunityStatus, OrgId, Organization, Person, PersonId, StageChange, Strength,
    TeamMember, TeamRole, Timestamp,
};

use crate::bundle::Bundle;

/// Our own company.
pub const OURS: &str = "ours";
/// Account A, the bank: well covered.
pub const BANK: &str = "acc-meridian";
/// Account B, the manufacturer: single-threaded through one seller and one coach.
pub const MAKER: &str = "acc-hartmann";
/// Subsidiary of account B (its Chinese plant company).
pub const MAKER_CN: &str = "acc-hartmann-cn";
/// Account C, the hospital group: cold economic buyer, influential opponent.
pub const HOSPITAL: &str = "acc-lumen";

/// Fixed seed: the content is the same every day, only the dates move.
const SEED: u64 = 0x7265_6e6d_6169_2024;
/// How far back the interaction history reaches, in days (about 2.5 years).
const HISTORY_DAYS: i64 = 900;

// Our people, by index into `Builder::ours`.
const CRO: usize = 0;
const VP_SALES: usize = 1;
const AE1: usize = 2;
const AE2: usize = 3;
const SE1: usize = 4;
const SE2: usize = 5;
const CSM: usize = 6;
const SVC: usize = 7;

/// Builds the demo bundle as of `today`.
///
/// Our company is `ours` ("Northwind Systems") with 8 people: a CRO, a VP
/// Sales, two account executives (Sofia Lindqvist, Rajesh Iyer), two
/// solutions engineers, a customer success manager and a service engineer.
/// Interactions span the ~2.5 years before `today` (weekdays, business
/// hours; dinners in the evening), all strictly before `today`.
///
/// The accounts and the story each one tells:
///
/// - **A, `acc-meridian` — Meridian Bank (banking), well covered.** Five of
///   ours hold strong, recent ties (many meetings in the last 90 days)
///   across roles, levels and departments: the CRO with the CEO and the CFO,
///   the account executive Sofia Lindqvist with the CFO (the economic buyer),
///   the CIO, the COO and an IT director who coaches us, the solutions
///   engineer across IT, customer success across Operations.
/// - **B, `acc-hartmann` — Hartmann Maschinenbau (manufacturing),
///   single-threaded.** The account executive Rajesh Iyer holds nearly all
///   strong ties, most of them through one coach, the Director of Digital
///   Manufacturing. The rest of the team barely interacts (a few old demos
///   and e-mails, nothing in the last 300 days).
/// - **`acc-hartmann-cn` — Hartmann Precision (Suzhou)**, B's Chinese
///   subsidiary (`parent` = `acc-hartmann`), moderately covered by the
///   seller, presales and the service engineer.
/// - **C, `acc-lumen` — Lumen Health Group (hospital group), cold economic
///   buyer.** The CFO, the economic buyer, met Sofia Lindqvist and our CRO
///   often 6–18 months ago, but nobody has touched them in the last 165
///   days (over 5 months). The CIO is an influential opponent: strong
///   influence lines to the CFO, the CEO, the COO and much of IT, and a
///   skeptical VP as mentee.
///
/// Sizes: 40–150 stakeholders per account, a reporting tree with one root
/// per account, buying roles on ~17% of the people, informal influence lines
/// (~n/2 per account), 3–5 of ours on each account team, a few `KNOWS`
/// assessments and 2–3 opportunities per account with their contacts.
pub fn demo_bundle(today: NaiveDate) -> Bundle {
    let mut b = Builder::new(today);
    b.our_company();

    let mut bank = b.account(&BANK_SPEC);
    let mut maker = b.account(&MAKER_SPEC);
    let mut maker_cn = b.account(&MAKER_CN_SPEC);
    let mut hospital = b.account(&HOSPITAL_SPEC);

    b.story_bank(&mut bank);
    b.story_maker(&mut maker);
    b.story_maker_cn(&mut maker_cn);
    b.story_hospital(&mut hospital);

    for a in [bank, maker, maker_cn, hospital] {
        b.bundle.people.extend(a.people);
    }
    b.finish()
}

// ---------------------------------------------------------------------------
// Randomness

/// splitmix64: tiny, fast, good enough for demo data, and stable forever.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in 0..n; n > 0.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(total as usize) as u32;
        for &(x, w) in xs {
            if r < w {
                return x;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
    /// Up to `k` distinct elements of `xs`, in random order.
    fn sample<T: Clone>(&mut self, xs: &[T], k: usize) -> Vec<T> {
        let mut v: Vec<T> = xs.to_vec();
        let k = k.min(v.len());
        for i in 0..k {
            let j = i + self.below(v.len() - i);
            v.swap(i, j);
        }
        v.truncate(k);
        v
    }
}

// ---------------------------------------------------------------------------
// Names

#[derive(Clone, Copy)]
enum Culture {
    German,
    French,
    Italian,
    Spanish,
    Nordic,
    Polish,
    Dutch,
    Chinese,
    Indian,
    American,
}

impl Culture {
    #[rustfmt::skip]
    fn pools(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Culture::German => (
                &[
                    "Jürgen",
                    "Katrin",
                    "Matthias",
                    "Sabine",
                    "Stefan",
                    "Anja",
                    "Tobias",
                    "Claudia",
                    "Florian",
                    "Birgit",
                    "Lukas",
                    "Miriam",
                    "Uwe",
                    "Heike",
                    "Jonas",
                    "Franziska",
                ],
                &[
                    "Müller",
                    "Schneider",
                    "Fischer",
                    "Weber",
                    "Wagner",
                    "Hoffmann",
                    "Schulz",
                    "Koch",
                    "Richter",
                    "Krüger",
                    "Braun",
                    "Zimmermann",
                    "Hartwig",
                    "Vogel",
                    "Schäfer",
                    "Neumann",
                ],
            ),
            Culture::French => (
                &[
                    "Camille", "Julien", "Élodie", "Mathieu", "Céline", "Antoine", "Sophie",
                    "Nicolas", "Amélie", "Thierry",
                ],
                &[
                    "Dubois",
                    "Lefèvre",
                    "Moreau",
                    "Laurent",
                    "Girard",
                    "Bonnet",
                    "Mercier",
                    "Fontaine",
                    "Chevalier",
                    "Rousseau",
                ],
            ),
            Culture::Italian => (
                &[
                    "Giulia",
                    "Marco",
                    "Francesca",
                    "Alessandro",
                    "Chiara",
                    "Luca",
                    "Elena",
                    "Davide",
                    "Valentina",
                    "Matteo",
                ],
                &[
                    "Rossi", "Bianchi", "Ferrari", "Romano", "Colombo", "Ricci", "Marino", "Greco",
                    "Conti", "Esposito",
                ],
            ),
            Culture::Spanish => (
                &[
                    "Lucía", "Javier", "Carmen", "Pablo", "Marta", "Sergio", "Elena", "Diego",
                    "Isabel", "Raúl",
                ],
                &[
                    "García",
                    "Fernández",
                    "López",
                    "Martínez",
                    "Sánchez",
                    "Romero",
                    "Navarro",
                    "Torres",
                    "Ruiz",
                    "Jiménez",
                ],
            ),
            Culture::Nordic => (
                &[
                    "Ingrid", "Lars", "Astrid", "Henrik", "Sigrid", "Magnus", "Freja", "Erik",
                    "Linnea", "Mikkel",
                ],
                &[
                    "Johansson",
                    "Andersson",
                    "Nielsen",
                    "Eriksen",
                    "Halvorsen",
                    "Berg",
                    "Lindgren",
                    "Virtanen",
                    "Dahl",
                    "Sørensen",
                ],
            ),
            Culture::Polish => (
                &[
                    "Katarzyna",
                    "Piotr",
                    "Tomasz",
                    "Agnieszka",
                    "Marek",
                    "Magdalena",
                    "Paweł",
                    "Joanna",
                    "Krzysztof",
                    "Ewa",
                ],
                &[
                    "Nowak",
                    "Kowalczyk",
                    "Lewandowski",
                    "Zieliński",
                    "Wójcik",
                    "Kamiński",
                    "Mazur",
                    "Krawczyk",
                    "Dąbrowski",
                    "Grabowski",
                ],
            ),
            Culture::Dutch => (
                &[
                    "Sanne", "Joost", "Femke", "Bram", "Lotte", "Daan", "Eva", "Thijs",
                ],
                &[
                    "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "de Boer",
                    "Mulder",
                ],
            ),
            Culture::Chinese => (
                &[
                    "Wei", "Fang", "Jing", "Lei", "Min", "Hao", "Xiaoling", "Yan", "Jun", "Na",
                    "Ming", "Tao", "Yu", "Hui", "Qiang", "Xin", "Zhiwei", "Meiling", "Jiahui",
                    "Yifan", "Haoran", "Ying",
                ],
                &[
                    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
                    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Gao", "Luo",
                ],
            ),
            Culture::Indian => (
                &[
                    "Priya", "Arjun", "Ananya", "Vikram", "Deepa", "Rahul", "Kavita", "Sanjay",
                    "Neha", "Amit", "Lakshmi", "Rohan", "Sunita", "Karthik", "Meera", "Aditya",
                ],
                &[
                    "Sharma",
                    "Patel",
                    "Reddy",
                    "Nair",
                    "Gupta",
                    "Mehta",
                    "Rao",
                    "Singh",
                    "Krishnan",
                    "Desai",
                    "Banerjee",
                    "Menon",
                    "Kulkarni",
                    "Chatterjee",
                    "Joshi",
                    "Pillai",
                ],
            ),
            Culture::American => (
                &[
                    "Jennifer",
                    "Michael",
                    "Jessica",
                    "David",
                    "Ashley",
                    "Christopher",
                    "Emily",
                    "Brian",
                    "Sarah",
                    "Kevin",
                    "Megan",
                    "Jason",
                    "Rachel",
                    "Tyler",
                    "Lauren",
                    "Marcus",
                    "Tanisha",
                    "Derek",
                    "Courtney",
                    "Jamal",
                    "Maria",
                    "Robert",
                ],
                &[
                    "Smith",
                    "Johnson",
                    "Williams",
                    "Brown",
                    "Davis",
                    "Miller",
                    "Wilson",
                    "Anderson",
                    "Taylor",
                    "Thomas",
                    "Moore",
                    "Jackson",
                    "Thompson",
                    "Harris",
                    "Clark",
                    "Walker",
                    "Robinson",
                    "Nguyen",
                    "Kim",
                    "Gonzalez",
                    "Washington",
                    "O'Brien",
                ],
            ),
        }
    }

    /// Family name first, as the name is written at home.
    fn family_first(self) -> bool {
        matches!(self, Culture::Chinese)
    }
}

/// Lower-case ASCII for an e-mail local part: folds accents, drops the rest.
fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let rep = match c {
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'ę' => "e",
            'á' | 'à' | 'â' | 'ą' | 'å' => "a",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'Ó' => "o",
            'ø' | 'Ø' => "o",
            'ú' | 'ù' | 'û' => "u",
            'ñ' | 'ń' => "n",
            'ç' | 'ć' => "c",
            'ł' | 'Ł' => "l",
            'ś' | 'Ś' => "s",
            'ż' | 'ź' => "z",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => continue,
        };
        out.push_str(rep);
    }
    out
}

// ---------------------------------------------------------------------------
// Account templates

struct Dept {
    name: &'static str,
    head_title: &'static str,
    weight: usize,
    specs: &'static [&'static str],
    staff: &'static [&'static str],
}

const FINANCE: Dept = Dept {
    name: "Finance",
    head_title: "Chief Financial Officer",
    weight: 16,
    specs: &[
        "Controlling",
        "Treasury",
        "Financial Planning & Analysis",
        "Accounting",
        "Tax",
    ],
    staff: &[
        "Financial Analyst",
        "Accountant",
        "Controller",
        "Treasury Analyst",
        "Payroll Specialist",
    ],
};
const IT: Dept = Dept {
    name: "IT",
    head_title: "Chief Information Officer",
    weight: 24,
    specs: &[
        "Infrastructure",
        "Enterprise Applications",
        "IT Security",
        "Data & Analytics",
        "Digital Workplace",
        "Enterprise Architecture",
    ],
    staff: &[
        "Systems Engineer",
        "Business Analyst",
        "Software Developer",
        "Security Analyst",
        "Network Engineer",
        "Database Administrator",
    ],
};
const OPERATIONS: Dept = Dept {
    name: "Operations",
    head_title: "Chief Operating Officer",
    weight: 22,
    specs: &[
        "Operational Excellence",
        "Logistics",
        "Quality",
        "Shared Services",
        "Facilities",
        "Customer Operations",
    ],
    staff: &[
        "Operations Analyst",
        "Process Specialist",
        "Logistics Coordinator",
        "Quality Inspector",
        "Team Lead",
    ],
};
const PROCUREMENT: Dept = Dept {
    name: "Procurement",
    head_title: "Chief Procurement Officer",
    weight: 8,
    specs: &[
        "Strategic Sourcing",
        "Vendor Management",
        "IT Procurement",
        "Contract Management",
    ],
    staff: &["Buyer", "Category Specialist", "Contract Analyst"],
};
const RISK: Dept = Dept {
    name: "Risk & Compliance",
    head_title: "Chief Risk Officer",
    weight: 14,
    specs: &[
        "Credit Risk",
        "Operational Risk",
        "Compliance",
        "Regulatory Reporting",
        "Fraud Prevention",
    ],
    staff: &[
        "Risk Analyst",
        "Compliance Officer",
        "Model Validator",
        "AML Analyst",
    ],
};
const ENGINEERING: Dept = Dept {
    name: "Engineering",
    head_title: "Chief Technology Officer",
    weight: 24,
    specs: &[
        "R&D",
        "Product Engineering",
        "Automation",
        "Manufacturing Engineering",
        "Test & Validation",
    ],
    staff: &[
        "Design Engineer",
        "Test Engineer",
        "Automation Engineer",
        "Process Engineer",
        "Firmware Developer",
    ],
};
const CLINICAL: Dept = Dept {
    name: "Clinical",
    head_title: "Chief Medical Officer",
    weight: 26,
    specs: &[
        "Nursing",
        "Clinical Quality",
        "Pharmacy",
        "Radiology",
        "Clinical Informatics",
    ],
    staff: &[
        "Nurse Informaticist",
        "Clinical Analyst",
        "Charge Nurse",
        "Pharmacist",
        "Radiographer",
    ],
};

struct AccountSpec {
    id: &'static str,
    prefix: &'static str,
    name: &'static str,
    industry: &'static str,
    region: &'static str,
    tier: &'static str,
    domain: &'static str,
    parent: Option<&'static str>,
    size: usize,
    ceo_title: &'static str,
    cultures: &'static [(Culture, u32)],
    depts: &'static [Dept],
    /// Share of the people with a CRM id.
    crm_share: f64,
}

const BANK_SPEC: AccountSpec = AccountSpec {
    id: BANK,
    prefix: "mb",
    name: "Meridian Bank",
    industry: "Banking",
    region: "EMEA",
    tier: "Strategic",
    domain: "meridianbank.com",
    parent: None,
    size: 112,
    ceo_title: "Chief Executive Officer",
    cultures: &[
        (Culture::German, 8),
        (Culture::French, 8),
        (Culture::Italian, 6),
        (Culture::Spanish, 6),
        (Culture::Nordic, 6),
        (Culture::Polish, 5),
        (Culture::Dutch, 6),
        (Culture::American, 20),
        (Culture::Indian, 20),
        (Culture::Chinese, 15),
    ],
    depts: &[FINANCE, IT, OPERATIONS, RISK, PROCUREMENT],
    crm_share: 0.7,
};

const MAKER_SPEC: AccountSpec = AccountSpec {
    id: MAKER,
    prefix: "hm",
    name: "Hartmann Maschinenbau AG",
    industry: "Industrial Manufacturing",
    region: "DACH",
    tier: "Key",
    domain: "hartmann-mb.de",
    parent: None,
    size: 86,
    ceo_title: "Chief Executive Officer",
    cultures: &[
        (Culture::German, 50),
        (Culture::Polish, 8),
        (Culture::Italian, 6),
        (Culture::Dutch, 6),
        (Culture::Indian, 10),
        (Culture::Chinese, 10),
        (Culture::American, 10),
    ],
    depts: &[FINANCE, IT, OPERATIONS, ENGINEERING, PROCUREMENT],
    crm_share: 0.5,
};

const MAKER_CN_SPEC: AccountSpec = AccountSpec {
    id: MAKER_CN,
    prefix: "hc",
    name: "Hartmann Precision (Suzhou) Co., Ltd.",
    industry: "Industrial Manufacturing",
    region: "APAC",
    tier: "Growth",
    domain: "hartmann-precision.cn",
    parent: Some(MAKER),
    size: 46,
    ceo_title: "General Manager",
    cultures: &[
        (Culture::Chinese, 80),
        (Culture::German, 15),
        (Culture::Indian, 5),
    ],
    depts: &[FINANCE, OPERATIONS, ENGINEERING, IT, PROCUREMENT],
    crm_share: 0.4,
};

const HOSPITAL_SPEC: AccountSpec = AccountSpec {
    id: HOSPITAL,
    prefix: "lh",
    name: "Lumen Health Group",
    industry: "Healthcare",
    region: "North America",
    tier: "Strategic",
    domain: "lumenhealth.org",
    parent: None,
    size: 124,
    ceo_title: "Chief Executive Officer",
    cultures: &[
        (Culture::American, 55),
        (Culture::Indian, 20),
        (Culture::Chinese, 10),
        (Culture::German, 5),
        (Culture::French, 5),
        (Culture::Spanish, 5),
    ],
    depts: &[FINANCE, IT, OPERATIONS, CLINICAL, PROCUREMENT],
    crm_share: 0.65,
};

/// One account's stakeholders while the story is written.
struct Acct {
    org: OrgId,
    people: Vec<Person>,
}

impl Acct {
    fn id(&self, i: usize) -> PersonId {
        self.people[i].id.clone()
    }
    fn in_dept(&self, dept: &str, levels: &[u8]) -> Vec<usize> {
        (0..self.people.len())
            .filter(|&i| {
                self.people[i].department.as_deref() == Some(dept)
                    && levels.contains(&self.people[i].level.get())
            })
            .collect()
    }
    /// The C-level head of a department (the CEO for "Executive").
    fn head(&self, dept: &str) -> usize {
        self.in_dept(dept, &[1])[0]
    }
    fn first(&self, dept: &str, level: u8) -> usize {
        self.in_dept(dept, &[level])[0]
    }
    fn ids(&self, idx: &[usize]) -> Vec<PersonId> {
        idx.iter().map(|&i| self.id(i)).collect()
    }
    fn with_role(&self) -> Vec<usize> {
        (0..self.people.len())
            .filter(|&i| self.people[i].role.is_some())
            .collect()
    }
    fn set(&mut self, i: usize, role: Option<BuyingRole>, attitude: Option<Attitude>) {
        if role.is_some() {
            self.people[i].role = role;
        }
        if attitude.is_some() {
            self.people[i].attitude = attitude;
        }
    }
}

// ---------------------------------------------------------------------------
// Interaction mixes

type Mix = &'static [(InteractionKind, u32)];

const SELLER: Mix = &[
    (InteractionKind::Meeting, 30),
    (InteractionKind::Call, 25),
    (InteractionKind::Email, 35),
    (InteractionKind::Visit, 6),
    (InteractionKind::Dinner, 4),
];
const PRESALES: Mix = &[
    (InteractionKind::Meeting, 20),
    (InteractionKind::Demo, 20),
    (InteractionKind::Workshop, 8),
    (InteractionKind::Call, 20),
    (InteractionKind::Email, 32),
];
const SUCCESS: Mix = &[
    (InteractionKind::Meeting, 25),
    (InteractionKind::Call, 25),
    (InteractionKind::Email, 35),
    (InteractionKind::ServiceCase, 15),
];
const SERVICE: Mix = &[
    (InteractionKind::ServiceCase, 50),
    (InteractionKind::Call, 20),
    (InteractionKind::Email, 25),
    (InteractionKind::Visit, 5),
];
const EXEC: Mix = &[
    (InteractionKind::Meeting, 40),
    (InteractionKind::Dinner, 25),
    (InteractionKind::Call, 20),
    (InteractionKind::Visit, 15),
];
const LIGHT: Mix = &[(InteractionKind::Email, 70), (InteractionKind::Call, 30)];

/// An interaction before it gets its id (ids follow time order).
struct Ix {
    at: Timestamp,
    kind: InteractionKind,
    initiator: PersonId,
    participants: Vec<PersonId>,
}

// ---------------------------------------------------------------------------
// The builder

struct Builder {
    rng: Rng,
    today: NaiveDate,
    ours: Vec<PersonId>,
    ix: Vec<Ix>,
    influence_pairs: HashSet<(PersonId, PersonId)>,
    bundle: Bundle,
}

fn org_id(s: &str) -> OrgId {
    OrgId::parse(s).expect("demo org id")
}
fn person_id(s: &str) -> PersonId {
    PersonId::parse(s).expect("demo person id")
}
fn level(n: u8) -> Level {
    Level::new(n).expect("demo level")
}
fn acceptance(n: u8) -> Option<renmai_graph::Acceptance> {
    Some(renmai_graph::Acceptance::new(n).expect("demo acceptance"))
}

impl Builder {
    fn new(today: NaiveDate) -> Builder {
        Builder {
            rng: Rng(SEED),
            today,
            ours: Vec::new(),
            ix: Vec::new(),
            influence_pairs: HashSet::new(),
            bundle: Bundle::default(),
        }
    }

    /// The weekday on or before `today - days_ago` (days_ago ≥ 1).
    fn weekday(&self, days_ago: i64) -> NaiveDate {
        let d = self.today - Duration::days(days_ago.max(1));
        match d.weekday() {
            Weekday::Sat => d - Duration::days(1),
            Weekday::Sun => d - Duration::days(2),
            _ => d,
        }
    }

    fn ts(d: NaiveDate, h: i64, m: i64, s: i64) -> Timestamp {
        let dt = d
            .and_hms_opt(h as u32, m as u32, s as u32)
            .expect("valid time of day");
        Timestamp::from_epoch_seconds(dt.and_utc().timestamp())
    }

    /// A plausible time for an interaction of `kind` about `days_ago` days ago.
    fn when(&mut self, days_ago: i64, kind: InteractionKind) -> Timestamp {
        let d = self.weekday(days_ago);
        let r = &mut self.rng;
        let (h, m, s) = match kind {
            InteractionKind::Dinner => (r.range(18, 20), r.pick(&[0, 30]), 0),
            InteractionKind::Email => (r.range(7, 19), r.range(0, 59), r.range(0, 59)),
            InteractionKind::Call | InteractionKind::ServiceCase => {
                (r.range(8, 17), r.range(0, 11) * 5, 0)
            }
            _ => (r.range(8, 16), r.pick(&[0, 0, 30]), 0),
        };
        Self::ts(d, h, m, s)
    }

    fn date_ago(&self, days_ago: i64) -> Timestamp {
        Self::ts(self.weekday(days_ago), 10, 0, 0)
    }

    /// Interactions between one of ours and a stakeholder, `per_month` on
    /// average, spread over `from..=to` days ago (from > to ≥ 1).
    fn tie(&mut self, us: usize, them: &PersonId, span: (i64, i64), per_month: f64, mix: Mix) {
        let (from, to) = span;
        let expected = per_month * (from - to).max(0) as f64 / 30.4;
        let mut n = expected.floor() as usize;
        if self.rng.chance(expected.fract()) {
            n += 1;
        }
        let ours = self.ours[us].clone();
        for _ in 0..n {
            let ago = self.rng.range(to, from);
            let kind = self.rng.weighted(mix);
            let ours_starts = match kind {
                InteractionKind::ServiceCase => self.rng.chance(0.3),
                InteractionKind::Email | InteractionKind::Call => self.rng.chance(0.6),
                _ => true,
            };
            let at = self.when(ago, kind);
            let (a, b) = if ours_starts {
                (ours.clone(), them.clone())
            } else {
                (them.clone(), ours.clone())
            };
            self.ix.push(Ix {
                at,
                kind,
                initiator: a.clone(),
                participants: vec![a, b],
            });
        }
    }

    /// A recent burst on top of a long tie: `base` over `span`, `recent`
    /// over the last 90 days.
    fn tie2(
        &mut self,
        us: usize,
        them: &PersonId,
        span: (i64, i64),
        base: f64,
        recent: f64,
        mix: Mix,
    ) {
        self.tie(us, them, span, base, mix);
        self.tie(us, them, (90, 1), recent, mix);
    }

    /// One interaction of several of ours with several stakeholders.
    fn group(&mut self, us: &[usize], them: &[PersonId], days_ago: i64, kind: InteractionKind) {
        let at = self.when(days_ago, kind);
        let mut participants: Vec<PersonId> = us.iter().map(|&u| self.ours[u].clone()).collect();
        participants.extend(them.iter().cloned());
        self.ix.push(Ix {
            at,
            kind,
            initiator: participants[0].clone(),
            participants,
        });
    }

    /// `n` group events (workshops, demos, meetings) of `teams` (one is
    /// picked each time) with 2–3 of `pool`, `recent` of them in the last 90 days.
    fn groups(
        &mut self,
        teams: &[&[usize]],
        pool: &[PersonId],
        n: usize,
        recent: usize,
        span: (i64, i64),
    ) {
        for k in 0..n {
            let ago = if k < recent {
                self.rng.range(1, 90)
            } else {
                self.rng.range(span.1, span.0)
            };
            let team = teams[self.rng.below(teams.len())];
            let max_them = (5 - team.len()).min(3);
            let k_them = self.rng.range(2, max_them as i64) as usize;
            let them = self.rng.sample(pool, k_them);
            let kind = self.rng.weighted(&[
                (InteractionKind::Workshop, 5),
                (InteractionKind::Demo, 3),
                (InteractionKind::Meeting, 4),
            ]);
            self.group(team, &them, ago, kind);
        }
    }

    fn influence(&mut self, from: &PersonId, to: &PersonId, kind: InfluenceKind, strength: f64) {
        if from == to || !self.influence_pairs.insert((from.clone(), to.clone())) {
            return;
        }
        self.bundle.influences.push(Influence {
            from: from.clone(),
            to: to.clone(),
            kind,
            strength: Strength::new((strength * 100.0).round() / 100.0).expect("demo strength"),
        });
    }

    /// Random informal influence lines until the account has `n / 2`.
    fn random_influences(&mut self, a: &Acct) {
        let n = a.people.len();
        let have = |s: &Builder| {
            s.bundle
                .influences
                .iter()
                .filter(|x| x.from.as_str().starts_with(&a.people[0].id.as_str()[..3]))
                .count()
        };
        let weights: Vec<(usize, u32)> = (0..n)
            .map(|i| (i, 7 - u32::from(a.people[i].level.get())))
            .collect();
        let mut guard = 0;
        while have(self) < n / 2 && guard < 10 * n {
            guard += 1;
            let f = self.rng.weighted(&weights);
            let t = self.rng.below(n);
            let (lf, lt) = (a.people[f].level.get(), a.people[t].level.get());
            let kinds: &[InfluenceKind] = if lf < lt {
                &[
                    InfluenceKind::Mentor,
                    InfluenceKind::Sponsor,
                    InfluenceKind::TrustedAdvisor,
                ]
            } else if lf == lt {
                &[InfluenceKind::Peer, InfluenceKind::FormerColleague]
            } else {
                &[
                    InfluenceKind::TrustedAdvisor,
                    InfluenceKind::FormerColleague,
                    InfluenceKind::Peer,
                ]
            };
            let kind = self.rng.pick(kinds);
            let strength = 0.2 + 0.7 * self.rng.f64();
            self.influence(&a.id(f), &a.id(t), kind, strength);
        }
    }

    fn assess(&mut self, from: usize, to: &PersonId, lvl: u8, days_ago: i64, by: usize) {
        self.bundle.assessments.push(Assessment {
            from: self.ours[from].clone(),
            to: to.clone(),
            level: ClosenessLevel::new(lvl).expect("demo closeness"),
            at: self.date_ago(days_ago),
            by: Some(self.ours[by].clone()),
        });
    }

    fn team(&mut self, a: &Acct, members: &[(usize, TeamRole)]) {
        for &(u, role) in members {
            self.bundle.account_team.push(TeamMember {
                org: a.org.clone(),
                person: self.ours[u].clone(),
                role,
            });
        }
    }

    /// A deal; `close_in` days from today (negative: in the past).
    fn opportunity(&mut self, a: &Acct, deal: Deal<'_>) {
        let id = OpportunityId::parse(deal.id).expect("demo opportunity id");
        let (stage, status) = deal.stage;
        self.bundle.opportunities.push(Opportunity {
            id: id.clone(),
            account: a.org.clone(),
            name: deal.name.to_owned(),
            amount: Some(deal.amount),
            stage: Some(stage.to_owned()),
            status,
            close_date: Some(self.today + Duration::days(deal.close_in)),
            owner: Some(self.ours[deal.owner].clone()),
            competitors: demo_competitors(deal.id),
        });
        for c in deal.contacts {
            let at = self.date_ago(c.5);
            self.bundle.opportunity_contacts.push(OpportunityContact {
                opportunity: id.clone(),
                person: a.id(c.0),
                role: c.1,
                attitude: c.2,
                solution_acceptance: acceptance(c.3),
                price_acceptance: acceptance(c.4),
                at: Some(at),
            });
        }
        self.deal_story(&id, a, &deal);
    }

    /// The deal's stage history and, for closed deals, earlier versions of
    /// its decision chain: won deals warmed up over the cycle, lost deals
    /// cooled down, so the chain as of an earlier date or stage differs.
    fn deal_story(&mut self, id: &OpportunityId, a: &Acct, deal: &Deal<'_>) {
        let cfg = renmai_graph::DealConfig::default();
        let (stage, status) = deal.stage;
        // Open deals went through every stage up to theirs; won deals through
        // commit; lost deals stopped at a stage picked from their id.
        let last_open = match status {
            OpportunityStatus::Open => cfg.stage_index(stage).unwrap_or(0),
            OpportunityStatus::Won => 5,
            OpportunityStatus::Lost => 2 + deal.id.len() % 3,
        };
        let first_assessed = deal.contacts.iter().map(|c| c.5).max().unwrap_or(30);
        let start = first_assessed + 45;
        let end = if status == OpportunityStatus::Open {
            5
        } else {
            -deal.close_in
        }
        .min(start - 1);
        let mut stages: Vec<&str> = cfg.stages[..=last_open]
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        // At least three days apart: demo dates snap to weekdays.
        let step = ((start - end) / stages.len() as i64).max(3);
        if status != OpportunityStatus::Open {
            stages.push(stage);
        }
        for (i, s) in stages.iter().enumerate() {
            let days_ago = if status != OpportunityStatus::Open && i == stages.len() - 1 {
                end
            } else {
                start - step * i as i64
            };
            self.bundle.opportunity_stages.push(StageChange {
                opportunity: id.clone(),
                stage: (*s).to_owned(),
                at: self.date_ago(days_ago.max(1)),
            });
        }
        if status == OpportunityStatus::Open {
            return;
        }
        let shift: i16 = if status == OpportunityStatus::Won {
            -1
        } else {
            1
        };
        for c in deal.contacts {
            let earlier = |v: u8| acceptance((i16::from(v) + shift).clamp(0, 4) as u8);
            self.bundle.opportunity_contacts.push(OpportunityContact {
                opportunity: id.clone(),
                person: a.id(c.0),
                role: c.1,
                attitude: c.2,
                solution_acceptance: earlier(c.3),
                price_acceptance: earlier(c.4),
                at: Some(self.date_ago(c.5 + 40)),
            });
        }
    }

    fn our_company(&mut self) {
        self.bundle.organizations.push(Organization {
            id: org_id(OURS),
            name: "Northwind Systems".into(),
            industry: Some("Enterprise Software".into()),
            region: Some("EMEA".into()),
            tier: None,
            is_ours: true,
            parent: None,
        });
        let ours: [OurRow; 8] = [
            (
                "nw-01",
                "Margaret Hale",
                "Chief Revenue Officer",
                "Sales",
                1,
                None,
            ),
            (
                "nw-02",
                "Daniel Okafor",
                "VP Sales, Key Accounts",
                "Sales",
                2,
                Some(CRO),
            ),
            (
                "nw-03",
                "Sofia Lindqvist",
                "Senior Account Executive",
                "Sales",
                4,
                Some(VP_SALES),
            ),
            (
                "nw-04",
                "Rajesh Iyer",
                "Account Executive",
                "Sales",
                4,
                Some(VP_SALES),
            ),
            (
                "nw-05",
                "Chen Wei",
                "Principal Solutions Engineer",
                "Presales",
                4,
                Some(VP_SALES),
            ),
            (
                "nw-06",
                "Laura Becker",
                "Solutions Engineer",
                "Presales",
                4,
                Some(VP_SALES),
            ),
            (
                "nw-07",
                "Aisha Rahman",
                "Customer Success Manager",
                "Customer Success",
                4,
                Some(CRO),
            ),
            (
                "nw-08",
                "Tomás Novak",
                "Service Engineer",
                "Customer Success",
                5,
                Some(CSM),
            ),
        ];
        for (id, name, title, dept, lvl, boss) in ours {
            let (given, family) = name.split_once(' ').expect("two-part name");
            let email = format!(
                "{}.{}@northwind-systems.com",
                ascii_fold(given),
                ascii_fold(family)
            );
            let sf = format!("salesforce:0055g00000{}", self.alnum(5));
            self.bundle.people.push(Person {
                id: person_id(id),
                org: org_id(OURS),
                name: name.into(),
                title: Some(title.into()),
                department: Some(dept.into()),
                level: level(lvl),
                emails: vec![Email::parse(&email).expect("demo e-mail")],
                external_ids: vec![ExternalId::parse(&sf).expect("demo external id")],
                phones: vec![],
                reports_to: boss.map(|b: usize| self.ours[b].clone()),
                role: None,
                attitude: None,
            });
            self.ours.push(person_id(id));
        }
    }

    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| CHARS[self.rng.below(CHARS.len())] as char)
            .collect()
    }

    /// The organization and its people: a reporting tree under one CEO,
    /// departments with C-level heads, VPs, directors, managers and staff.
    fn account(&mut self, spec: &AccountSpec) -> Acct {
        self.bundle.organizations.push(Organization {
            id: org_id(spec.id),
            name: spec.name.into(),
            industry: Some(spec.industry.into()),
            region: Some(spec.region.into()),
            tier: Some(spec.tier.into()),
            is_ours: false,
            parent: spec.parent.map(org_id),
        });
        let mut a = Acct {
            org: org_id(spec.id),
            people: Vec::new(),
        };
        let mut names = HashSet::new();
        let mut emails = HashSet::new();
        let mut add = |b: &mut Builder,
                       a: &mut Acct,
                       lvl: u8,
                       dept: &str,
                       title: String,
                       boss: Option<usize>| {
            let (name, local) = loop {
                let culture = b.rng.weighted(spec.cultures);
                let (given, family) = culture.pools();
                let (g, f) = (b.rng.pick(given), b.rng.pick(family));
                let name = if culture.family_first() {
                    format!("{f} {g}")
                } else {
                    format!("{g} {f}")
                };
                if names.insert(name.clone()) {
                    break (name, format!("{}.{}", ascii_fold(g), ascii_fold(f)));
                }
            };
            let mut email = format!("{local}@{}", spec.domain);
            let mut k = 2;
            while !emails.insert(email.clone()) {
                email = format!("{local}{k}@{}", spec.domain);
                k += 1;
            }
            let external_ids = if b.rng.chance(spec.crm_share) {
                let sf = format!("salesforce:0035g0000{}", b.alnum(6));
                vec![ExternalId::parse(&sf).expect("demo external id")]
            } else {
                Vec::new()
            };
            let i = a.people.len();
            a.people.push(Person {
                id: person_id(&format!("{}-{:03}", spec.prefix, i + 1)),
                org: org_id(spec.id),
                name,
                title: Some(title),
                department: Some(dept.to_owned()),
                level: level(lvl),
                emails: vec![Email::parse(&email).expect("demo e-mail")],
                external_ids,
                phones: vec![],
                reports_to: boss.map(|j| a.people[j].id.clone()),
                role: None,
                attitude: None,
            });
            i
        };

        let ceo = add(self, &mut a, 1, "Executive", spec.ceo_title.into(), None);
        add(
            self,
            &mut a,
            3,
            "Executive",
            "Chief of Staff".into(),
            Some(ceo),
        );
        add(
            self,
            &mut a,
            5,
            "Executive",
            "Executive Assistant to the CEO".into(),
            Some(ceo),
        );

        let rest = spec.size - a.people.len();
        let total_w: usize = spec.depts.iter().map(|d| d.weight).sum();
        let mut budgets: Vec<usize> = spec
            .depts
            .iter()
            .map(|d| rest * d.weight / total_w)
            .collect();
        let mut k = 0;
        while budgets.iter().sum::<usize>() < rest {
            let nb = budgets.len();
            budgets[k % nb] += 1;
            k += 1;
        }

        for (dept, &budget) in spec.depts.iter().zip(&budgets) {
            let head = add(
                self,
                &mut a,
                1,
                dept.name,
                dept.head_title.into(),
                Some(ceo),
            );
            let r = budget - 1;
            let vps = if r >= 8 { (r / 16).clamp(1, 3) } else { 0 };
            let dirs = if r >= 6 { (r / 9).max(1) } else { 0 };
            let mgrs = if r >= 2 { (r / 5).max(1) } else { 0 };
            let staff = r - vps - dirs - mgrs;
            // Members of this department by level, to pick managers from.
            let mut tiers: Vec<Vec<usize>> = vec![vec![head]];
            for (lvl, count) in [(2u8, vps), (3, dirs), (4, mgrs), (5, staff)] {
                if count == 0 {
                    continue;
                }
                let mut pool: Vec<usize> = tiers.last().cloned().unwrap_or_default();
                if lvl == 3 && vps < 2 {
                    pool.push(head);
                    pool.dedup();
                }
                let offset = self.rng.below(dept.specs.len());
                let mut members = Vec::new();
                for j in 0..count {
                    let boss = pool[(j + offset) % pool.len()];
                    let spec_name = dept.specs[(offset + j) % dept.specs.len()];
                    let title = match lvl {
                        2 => format!("VP {spec_name}"),
                        3 => format!("Director of {spec_name}"),
                        4 => format!("{spec_name} Manager"),
                        _ => {
                            let t = self.rng.pick(dept.staff);
                            if self.rng.chance(0.3) {
                                format!("Senior {t}")
                            } else {
                                t.to_owned()
                            }
                        }
                    };
                    members.push(add(self, &mut a, lvl, dept.name, title, Some(boss)));
                }
                tiers.push(members);
            }
        }
        a
    }

    /// The generic buying centre: economic buyer, technical buyers, user
    /// buyers, procurement, the gatekeeper, one coach, and influencers up
    /// to ~17% of the people; attitudes drawn from `moods` for role holders
    /// and for a few others.
    fn buying_centre(
        &mut self,
        a: &mut Acct,
        eb: usize,
        coach: usize,
        ops: &str,
        moods: &[(Attitude, u32)],
    ) {
        let set_role = |a: &mut Acct, i: usize, r: BuyingRole| a.people[i].role = Some(r);
        set_role(a, eb, BuyingRole::EconomicBuyer);
        set_role(a, coach, BuyingRole::Coach);
        if let Some(&cio) = a.in_dept("IT", &[1]).first() {
            set_role(a, cio, BuyingRole::TechnicalBuyer);
        }
        if let Some(&t) = a.in_dept("IT", &[2, 3]).first() {
            set_role(a, t, BuyingRole::TechnicalBuyer);
        }
        for &u in a.in_dept(ops, &[3, 4]).iter().take(2) {
            set_role(a, u, BuyingRole::UserBuyer);
        }
        if let Some(&u) = a.in_dept("Operations", &[3]).first()
            && a.people[u].role.is_none()
        {
            set_role(a, u, BuyingRole::UserBuyer);
        }
        let proc = a.head("Procurement");
        set_role(a, proc, BuyingRole::Procurement);
        if let Some(&p) = a.in_dept("Procurement", &[3, 4]).first() {
            set_role(a, p, BuyingRole::Procurement);
        }
        let ea = a
            .people
            .iter()
            .position(|p| p.title.as_deref() == Some("Executive Assistant to the CEO"))
            .expect("executive assistant");
        set_role(a, ea, BuyingRole::Gatekeeper);

        let n = a.people.len();
        let target = (n * 17).div_ceil(100);
        let mut guard = 0;
        while a.with_role().len() < target && guard < 100 * n {
            guard += 1;
            let i = self.rng.below(n);
            let l = a.people[i].level.get();
            if a.people[i].role.is_none() && (2..=4).contains(&l) {
                set_role(a, i, BuyingRole::Influencer);
            }
        }
        for p in a.people.iter_mut() {
            if p.role.is_some() || self.rng.chance(0.08) {
                p.attitude = Some(self.rng.weighted(moods));
            }
        }
    }

    // -----------------------------------------------------------------------
    // The stories

    /// A: well covered, strong recent ties across roles, levels, departments.
    fn story_bank(&mut self, a: &mut Acct) {
        let ceo = a.head("Executive");
        let cfo = a.head("Finance");
        let cio = a.head("IT");
        let coo = a.head("Operations");
        let cpo = a.head("Procurement");
        let coach = a.first("IT", 3);
        self.buying_centre(
            a,
            cfo,
            coach,
            "Operations",
            &[
                (Attitude::Champion, 3),
                (Attitude::Supporter, 4),
                (Attitude::Neutral, 3),
                (Attitude::Skeptic, 1),
            ],
        );
        a.set(cfo, None, Some(Attitude::Supporter));
        a.set(cio, None, Some(Attitude::Supporter));
        a.set(coach, None, Some(Attitude::Champion));
        a.set(ceo, None, Some(Attitude::Supporter));
        a.set(
            a.head("Risk & Compliance"),
            Some(BuyingRole::Influencer),
            Some(Attitude::Skeptic),
        );

        self.team(
            a,
            &[
                (AE1, TeamRole::AccountExecutive),
                (SE1, TeamRole::SolutionsEngineer),
                (CSM, TeamRole::CustomerSuccess),
                (VP_SALES, TeamRole::SalesDirector),
                (CRO, TeamRole::ExecutiveSponsor),
            ],
        );

        let full = (HISTORY_DAYS, 1);
        // The executive sponsor with the top.
        self.tie2(CRO, &a.id(ceo), full, 0.5, 1.2, EXEC);
        self.tie2(CRO, &a.id(cfo), full, 0.4, 1.2, EXEC);
        // The sales director with procurement.
        self.tie2(VP_SALES, &a.id(cpo), (800, 1), 0.5, 1.5, SELLER);
        for p in a.in_dept("Procurement", &[3, 4]) {
            self.tie(VP_SALES, &a.id(p), (500, 1), 0.5, SELLER);
        }
        // The account executive across the buying centre.
        self.tie2(AE1, &a.id(cfo), full, 1.5, 3.0, SELLER);
        self.tie2(AE1, &a.id(cio), full, 1.0, 2.0, SELLER);
        self.tie2(AE1, &a.id(coo), (700, 1), 1.0, 2.0, SELLER);
        self.tie2(AE1, &a.id(coach), full, 3.0, 4.0, SELLER);
        for i in a.with_role() {
            if ![cfo, cio, coo, coach].contains(&i) {
                let start = self.rng.range(300, HISTORY_DAYS);
                self.tie2(AE1, &a.id(i), (start, 1), 0.7, 1.5, SELLER);
            }
        }
        self.light_ties(AE1, a, 15);
        // Presales across IT.
        self.tie2(SE1, &a.id(cio), (800, 1), 0.8, 2.0, PRESALES);
        let it = a.in_dept("IT", &[2, 3, 4]);
        for (k, p) in self.rng.sample(&it, 10).into_iter().enumerate() {
            let start = self.rng.range(300, 800);
            let recent = if k % 2 == 0 || a.people[p].role.is_some() {
                1.5
            } else {
                0.2
            };
            self.tie2(SE1, &a.id(p), (start, 1), 1.0, recent, PRESALES);
        }
        // Customer success across Operations.
        self.tie2(CSM, &a.id(coo), (600, 1), 0.8, 1.5, SUCCESS);
        let ops = a.in_dept("Operations", &[3, 4, 5]);
        for p in self.rng.sample(&ops, 8) {
            let start = self.rng.range(200, 700);
            self.tie2(CSM, &a.id(p), (start, 1), 1.0, 1.5, SUCCESS);
        }
        // Workshops and demos with several stakeholders.
        let mut pool = a.ids(&a.in_dept("IT", &[2, 3, 4, 5]));
        pool.extend(a.ids(&a.in_dept("Operations", &[2, 3, 4])));
        self.groups(
            &[&[AE1, SE1], &[SE1], &[SE1, CSM], &[AE1, CSM]],
            &pool,
            26,
            8,
            (HISTORY_DAYS, 91),
        );

        self.assess(AE1, &a.id(cfo), 3, 20, AE1);
        self.assess(AE1, &a.id(coach), 4, 60, AE1);
        self.assess(CRO, &a.id(ceo), 3, 45, CRO);
        self.assess(SE1, &a.id(cio), 3, 30, SE1);
        self.random_influences(a);

        let tb = a.first("IT", 2);
        self.opportunity(
            a,
            Deal {
                id: "opp-mb-1",
                name: "Real-time customer analytics platform",
                amount: 1_250_000.0,
                stage: ("proposal", OpportunityStatus::Open),
                close_in: 60,
                owner: AE1,
                contacts: &[
                    (
                        cfo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        2,
                        20,
                    ),
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Supporter),
                        3,
                        2,
                        25,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        3,
                        10,
                    ),
                    (
                        tb,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Neutral),
                        3,
                        2,
                        25,
                    ),
                    (
                        cpo,
                        Some(BuyingRole::Procurement),
                        Some(Attitude::Neutral),
                        2,
                        1,
                        15,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-mb-2",
                name: "Branch network monitoring",
                amount: 340_000.0,
                stage: ("closed_won", OpportunityStatus::Won),
                close_in: -420,
                owner: AE1,
                contacts: &[
                    (
                        coo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        430,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        3,
                        430,
                    ),
                    (
                        cpo,
                        Some(BuyingRole::Procurement),
                        Some(Attitude::Neutral),
                        3,
                        2,
                        425,
                    ),
                ],
            },
        );
        let risk = a.head("Risk & Compliance");
        self.opportunity(
            a,
            Deal {
                id: "opp-mb-3",
                name: "Risk data lake pilot",
                amount: 180_000.0,
                stage: ("closed_lost", OpportunityStatus::Lost),
                close_in: -240,
                owner: AE1,
                contacts: &[
                    (
                        risk,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Skeptic),
                        2,
                        1,
                        250,
                    ),
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Neutral),
                        3,
                        2,
                        250,
                    ),
                ],
            },
        );
        // Two more past deals, so the pattern pages have wins and losses
        // to compare: a multi-threaded win and a single-threaded loss.
        self.opportunity(
            a,
            Deal {
                id: "opp-mb-4",
                name: "Core ledger reconciliation",
                amount: 520_000.0,
                stage: ("closed_won", OpportunityStatus::Won),
                close_in: -600,
                owner: AE1,
                contacts: &[
                    (
                        cfo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        620,
                    ),
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Champion),
                        4,
                        3,
                        610,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        4,
                        640,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-mb-5",
                name: "Fraud scoring engine",
                amount: 410_000.0,
                stage: ("closed_lost", OpportunityStatus::Lost),
                close_in: -330,
                owner: AE1,
                contacts: &[
                    (
                        risk,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Skeptic),
                        1,
                        1,
                        340,
                    ),
                    (
                        cpo,
                        Some(BuyingRole::Procurement),
                        Some(Attitude::Neutral),
                        2,
                        1,
                        345,
                    ),
                ],
            },
        );
    }

    /// Occasional e-mails and calls with `n` random stakeholders.
    fn light_ties(&mut self, us: usize, a: &Acct, n: usize) {
        let all: Vec<usize> = (0..a.people.len()).collect();
        for p in self.rng.sample(&all, n) {
            let from = self.rng.range(100, HISTORY_DAYS);
            let to = self.rng.range(1, from - 60);
            self.tie(us, &a.id(p), (from, to), 0.3, LIGHT);
        }
    }

    /// B: single-threaded; Rajesh Iyer (AE2) holds nearly all strong ties,
    /// most through the coach; the rest of the team is absent lately.
    fn story_maker(&mut self, a: &mut Acct) {
        let ceo = a.head("Executive");
        let cfo = a.head("Finance");
        let cio = a.head("IT");
        let coo = a.head("Operations");
        let cpo = a.head("Procurement");
        let coach = a.first("Engineering", 3);
        a.people[coach].title = Some("Director of Digital Manufacturing".into());
        self.buying_centre(
            a,
            cfo,
            coach,
            "Operations",
            &[
                (Attitude::Champion, 1),
                (Attitude::Supporter, 3),
                (Attitude::Neutral, 5),
                (Attitude::Skeptic, 2),
            ],
        );
        a.set(coach, None, Some(Attitude::Champion));
        a.set(cfo, None, Some(Attitude::Neutral));
        a.set(coo, Some(BuyingRole::UserBuyer), Some(Attitude::Supporter));
        a.set(cio, None, Some(Attitude::Neutral));

        self.team(
            a,
            &[
                (AE2, TeamRole::AccountExecutive),
                (SE2, TeamRole::SolutionsEngineer),
                (CSM, TeamRole::CustomerSuccess),
                (VP_SALES, TeamRole::SalesDirector),
            ],
        );

        let full = (HISTORY_DAYS, 1);
        self.tie2(AE2, &a.id(coach), full, 4.0, 5.0, SELLER);
        self.tie2(AE2, &a.id(coo), (800, 1), 1.0, 2.0, SELLER);
        self.tie2(AE2, &a.id(cio), (700, 1), 0.8, 1.5, SELLER);
        self.tie2(AE2, &a.id(cfo), (600, 1), 0.5, 1.5, SELLER);
        for i in a.with_role() {
            if ![cfo, cio, coo, coach].contains(&i) {
                let start = self.rng.range(300, 800);
                self.tie2(AE2, &a.id(i), (start, 1), 0.6, 1.0, SELLER);
            }
        }
        self.light_ties(AE2, a, 12);
        // The coach brings colleagues to the seller's meetings.
        let mut pool = a.ids(&a.in_dept("Engineering", &[2, 3, 4]));
        pool.extend(a.ids(&a.in_dept("Operations", &[2, 3, 4])));
        pool.retain(|p| p != &a.id(coach));
        for k in 0..18 {
            let ago = if k < 6 {
                self.rng.range(1, 90)
            } else {
                self.rng.range(91, HISTORY_DAYS)
            };
            let mut them = vec![a.id(coach)];
            let extra = self.rng.range(1, 2) as usize;
            them.extend(self.rng.sample(&pool, extra));
            let kind = self.rng.pick(&[
                InteractionKind::Meeting,
                InteractionKind::Workshop,
                InteractionKind::Visit,
            ]);
            self.group(&[AE2], &them, ago, kind);
        }
        // The rest of the team barely shows up, and not lately.
        self.group(
            &[AE2, SE2],
            &[a.id(coach), a.id(cio)],
            420,
            InteractionKind::Demo,
        );
        self.tie(SE2, &a.id(coach), (850, 400), 0.3, PRESALES);
        for p in a.in_dept("IT", &[3, 4]).into_iter().take(2) {
            self.tie(SE2, &a.id(p), (800, 380), 0.2, PRESALES);
        }
        for p in a.in_dept("Operations", &[4]).into_iter().take(2) {
            self.tie(CSM, &a.id(p), (650, 320), 0.15, LIGHT);
        }
        self.group(
            &[VP_SALES],
            &[a.id(cpo), a.id(ceo)],
            460,
            InteractionKind::Meeting,
        );

        self.assess(AE2, &a.id(coach), 4, 15, AE2);
        self.assess(AE2, &a.id(cfo), 1, 100, AE2);
        self.assess(AE2, &a.id(coo), 2, 40, VP_SALES);
        self.influence(&a.id(coach), &a.id(coo), InfluenceKind::TrustedAdvisor, 0.6);
        self.influence(&a.id(coach), &a.id(cio), InfluenceKind::Peer, 0.5);
        self.influence(&a.id(coo), &a.id(cfo), InfluenceKind::Peer, 0.55);
        self.random_influences(a);

        let ub = a.in_dept("Operations", &[3])[0];
        self.opportunity(
            a,
            Deal {
                id: "opp-hm-1",
                name: "Plant-floor MES integration",
                amount: 860_000.0,
                stage: ("negotiation", OpportunityStatus::Open),
                close_in: 45,
                owner: AE2,
                contacts: &[
                    (
                        cfo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Neutral),
                        2,
                        1,
                        100,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        3,
                        15,
                    ),
                    (
                        coo,
                        Some(BuyingRole::UserBuyer),
                        Some(Attitude::Supporter),
                        3,
                        2,
                        40,
                    ),
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Neutral),
                        2,
                        2,
                        60,
                    ),
                    (
                        cpo,
                        Some(BuyingRole::Procurement),
                        Some(Attitude::Skeptic),
                        2,
                        1,
                        30,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-hm-2",
                name: "Predictive maintenance pilot",
                amount: 120_000.0,
                stage: ("closed_won", OpportunityStatus::Won),
                close_in: -310,
                owner: AE2,
                contacts: &[
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        3,
                        320,
                    ),
                    (
                        ub,
                        Some(BuyingRole::UserBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        320,
                    ),
                ],
            },
        );
    }

    /// B's Chinese subsidiary: moderate coverage, plenty of service work.
    fn story_maker_cn(&mut self, a: &mut Acct) {
        let gm = a.head("Executive");
        let cfo = a.head("Finance");
        let coach = a.first("Engineering", 4);
        self.buying_centre(
            a,
            gm,
            coach,
            "Operations",
            &[
                (Attitude::Champion, 1),
                (Attitude::Supporter, 4),
                (Attitude::Neutral, 4),
                (Attitude::Skeptic, 1),
            ],
        );
        a.set(gm, None, Some(Attitude::Supporter));
        a.set(coach, None, Some(Attitude::Champion));
        a.set(cfo, None, Some(Attitude::Neutral));

        self.team(
            a,
            &[
                (AE2, TeamRole::AccountExecutive),
                (SE2, TeamRole::SolutionsEngineer),
                (SVC, TeamRole::ServiceEngineer),
            ],
        );
        self.tie2(AE2, &a.id(gm), (700, 1), 0.6, 1.0, EXEC);
        self.tie2(AE2, &a.id(coach), (700, 1), 1.0, 1.5, SELLER);
        for i in a.with_role() {
            if i != gm && i != coach {
                self.tie(AE2, &a.id(i), (500, 1), 0.4, SELLER);
            }
        }
        let eng = a.in_dept("Engineering", &[3, 4, 5]);
        let it = a.in_dept("IT", &[2, 3, 4]);
        for p in self.rng.sample(&[eng.clone(), it].concat(), 6) {
            self.tie2(SE2, &a.id(p), (600, 1), 0.8, 1.0, PRESALES);
        }
        let shop = a.in_dept("Operations", &[4, 5]);
        for p in self.rng.sample(&[shop, eng].concat(), 6) {
            self.tie2(SVC, &a.id(p), (800, 1), 0.8, 1.0, SERVICE);
        }
        let mut pool = a.ids(&a.in_dept("Engineering", &[3, 4, 5]));
        pool.extend(a.ids(&a.in_dept("Operations", &[3, 4])));
        self.groups(&[&[SE2], &[SE2, SVC], &[AE2, SE2]], &pool, 9, 3, (700, 91));

        self.assess(AE2, &a.id(gm), 2, 60, AE2);
        self.random_influences(a);

        self.opportunity(
            a,
            Deal {
                id: "opp-hc-1",
                name: "Suzhou plant MES rollout",
                amount: 310_000.0,
                stage: ("qualification", OpportunityStatus::Open),
                close_in: 120,
                owner: AE2,
                contacts: &[
                    (
                        gm,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        2,
                        2,
                        60,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        3,
                        2,
                        30,
                    ),
                    (
                        cfo,
                        Some(BuyingRole::Influencer),
                        Some(Attitude::Neutral),
                        2,
                        1,
                        60,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-hc-2",
                name: "Line monitoring support contract",
                amount: 65_000.0,
                stage: ("closed_won", OpportunityStatus::Won),
                close_in: -540,
                owner: AE2,
                contacts: &[
                    (
                        gm,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        550,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        550,
                    ),
                ],
            },
        );
    }

    /// C: the economic buyer (CFO) went cold 5 months ago; the CIO is an
    /// influential opponent.
    fn story_hospital(&mut self, a: &mut Acct) {
        let ceo = a.head("Executive");
        let cfo = a.head("Finance");
        let cio = a.head("IT");
        let coo = a.head("Operations");
        let cmo = a.head("Clinical");
        let cpo = a.head("Procurement");
        let skeptic = a.first("IT", 2);
        let coach = a.first("Operations", 3);
        a.people[coach].title = Some("Director of Patient Flow".into());
        self.buying_centre(
            a,
            cfo,
            coach,
            "Clinical",
            &[
                (Attitude::Champion, 1),
                (Attitude::Supporter, 3),
                (Attitude::Neutral, 4),
                (Attitude::Skeptic, 2),
                (Attitude::Opponent, 1),
            ],
        );
        a.set(cfo, None, Some(Attitude::Supporter));
        a.set(
            cio,
            Some(BuyingRole::TechnicalBuyer),
            Some(Attitude::Opponent),
        );
        a.set(
            skeptic,
            Some(BuyingRole::Influencer),
            Some(Attitude::Skeptic),
        );
        a.set(coach, None, Some(Attitude::Champion));
        a.set(cmo, Some(BuyingRole::UserBuyer), Some(Attitude::Neutral));
        a.set(coo, Some(BuyingRole::Influencer), Some(Attitude::Supporter));
        a.set(ceo, None, Some(Attitude::Neutral));

        self.team(
            a,
            &[
                (AE1, TeamRole::AccountExecutive),
                (SE1, TeamRole::SolutionsEngineer),
                (SVC, TeamRole::ServiceEngineer),
                (CRO, TeamRole::ExecutiveSponsor),
            ],
        );

        // The economic buyer: close 6–18 months ago, untouched for 165 days.
        self.tie(AE1, &a.id(cfo), (HISTORY_DAYS, 540), 0.6, SELLER);
        self.tie(AE1, &a.id(cfo), (540, 165), 2.5, SELLER);
        self.tie(CRO, &a.id(cfo), (540, 165), 0.8, EXEC);
        let fin = a.ids(&a.in_dept("Finance", &[2, 3]));
        for k in 0..4 {
            let ago = self.rng.range(170, 520);
            let mut them = vec![a.id(cfo)];
            them.push(fin[k % fin.len()].clone());
            self.group(&[AE1, CRO], &them, ago, InteractionKind::Workshop);
        }
        // The rest of the account is worked as usual.
        self.tie2(AE1, &a.id(coo), (HISTORY_DAYS, 1), 0.8, 1.5, SELLER);
        self.tie2(AE1, &a.id(coach), (800, 1), 2.0, 3.0, SELLER);
        self.tie2(AE1, &a.id(cmo), (600, 1), 0.5, 1.0, SELLER);
        self.tie(AE1, &a.id(cio), (500, 200), 0.15, SELLER);
        for i in a.with_role() {
            if ![cfo, cio, coo, coach, cmo].contains(&i) {
                let start = self.rng.range(300, 800);
                self.tie2(AE1, &a.id(i), (start, 1), 0.6, 1.0, SELLER);
            }
        }
        let quiet: Vec<usize> = (0..a.people.len()).filter(|&i| i != cfo).collect();
        for p in self.rng.sample(&quiet, 12) {
            let from = self.rng.range(100, HISTORY_DAYS);
            let to = self.rng.range(1, from - 60);
            self.tie(AE1, &a.id(p), (from, to), 0.3, LIGHT);
        }
        self.tie2(CRO, &a.id(ceo), (800, 1), 0.3, 0.5, EXEC);
        let it = a.in_dept("IT", &[3, 4]);
        for p in self.rng.sample(&it, 8) {
            self.tie2(SE1, &a.id(p), (700, 1), 1.0, 1.5, PRESALES);
        }
        self.tie(SE1, &a.id(cio), (600, 200), 0.3, PRESALES);
        self.tie(SE1, &a.id(skeptic), (500, 1), 0.4, PRESALES);
        let mut floor = a.in_dept("Clinical", &[4, 5]);
        floor.extend(a.in_dept("IT", &[5]));
        for p in self.rng.sample(&floor, 8) {
            self.tie2(SVC, &a.id(p), (HISTORY_DAYS, 1), 0.8, 1.0, SERVICE);
        }
        let mut pool = a.ids(&a.in_dept("Clinical", &[2, 3, 4]));
        pool.extend(a.ids(&a.in_dept("IT", &[3, 4])));
        pool.extend(a.ids(&a.in_dept("Operations", &[3, 4])));
        self.groups(
            &[&[AE1, SE1], &[SE1], &[SE1, SVC]],
            &pool,
            16,
            5,
            (HISTORY_DAYS, 91),
        );

        // The opponent's web: strong lines from the CIO.
        let strong = [
            (cfo, InfluenceKind::TrustedAdvisor, 0.9),
            (ceo, InfluenceKind::Peer, 0.8),
            (coo, InfluenceKind::Peer, 0.7),
            (cmo, InfluenceKind::Peer, 0.6),
            (skeptic, InfluenceKind::Mentor, 0.85),
        ];
        for (to, kind, s) in strong {
            self.influence(&a.id(cio), &a.id(to), kind, s);
        }
        for (k, d) in a.in_dept("IT", &[3]).into_iter().take(4).enumerate() {
            self.influence(
                &a.id(cio),
                &a.id(d),
                InfluenceKind::Sponsor,
                0.8 - 0.05 * k as f64,
            );
        }
        self.influence(
            &a.id(skeptic),
            &a.id(cpo),
            InfluenceKind::FormerColleague,
            0.6,
        );
        self.influence(
            &a.id(coach),
            &a.id(coo),
            InfluenceKind::TrustedAdvisor,
            0.55,
        );
        self.random_influences(a);

        self.assess(AE1, &a.id(cfo), 3, 200, AE1);
        self.assess(AE1, &a.id(coach), 4, 30, AE1);
        self.assess(SE1, &a.id(cio), 1, 90, SE1);
        self.assess(CRO, &a.id(ceo), 2, 120, CRO);

        self.opportunity(
            a,
            Deal {
                id: "opp-lh-1",
                name: "Patient-flow platform expansion",
                amount: 2_100_000.0,
                stage: ("proposal", OpportunityStatus::Open),
                close_in: 90,
                owner: AE1,
                contacts: &[
                    (
                        cfo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        2,
                        200,
                    ),
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Opponent),
                        1,
                        1,
                        90,
                    ),
                    (
                        coach,
                        Some(BuyingRole::Coach),
                        Some(Attitude::Champion),
                        4,
                        3,
                        30,
                    ),
                    (
                        cmo,
                        Some(BuyingRole::UserBuyer),
                        Some(Attitude::Neutral),
                        3,
                        2,
                        45,
                    ),
                    (
                        skeptic,
                        Some(BuyingRole::Influencer),
                        Some(Attitude::Skeptic),
                        2,
                        1,
                        60,
                    ),
                    (
                        cpo,
                        Some(BuyingRole::Procurement),
                        Some(Attitude::Neutral),
                        2,
                        1,
                        40,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-lh-2",
                name: "Clinical data integration",
                amount: 600_000.0,
                stage: ("closed_lost", OpportunityStatus::Lost),
                close_in: -480,
                owner: AE1,
                contacts: &[
                    (
                        cio,
                        Some(BuyingRole::TechnicalBuyer),
                        Some(Attitude::Opponent),
                        1,
                        1,
                        500,
                    ),
                    (
                        cfo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Neutral),
                        2,
                        2,
                        500,
                    ),
                ],
            },
        );
        self.opportunity(
            a,
            Deal {
                id: "opp-lh-3",
                name: "Service desk modernisation",
                amount: 240_000.0,
                stage: ("closed_won", OpportunityStatus::Won),
                close_in: -700,
                owner: AE1,
                contacts: &[
                    (
                        coo,
                        Some(BuyingRole::EconomicBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        710,
                    ),
                    (
                        coach,
                        Some(BuyingRole::UserBuyer),
                        Some(Attitude::Supporter),
                        3,
                        3,
                        710,
                    ),
                ],
            },
        );
    }

    /// Interactions in time order with ids `ix-000001`...
    fn finish(mut self) -> Bundle {
        let mut ix = std::mem::take(&mut self.ix);
        ix.sort_by_key(|x| x.at);
        self.bundle.interactions = ix
            .into_iter()
            .enumerate()
            .map(|(i, x)| Interaction {
                id: InteractionId::parse(&format!("ix-{:06}", i + 1)).expect("demo interaction id"),
                kind: x.kind,
                at: x.at,
                initiator: x.initiator,
                participants: x.participants,
                in_reply_to: None,
            })
            .collect();
        self.bundle
    }
}

/// A deal to add.
struct Deal<'a> {
    id: &'a str,
    name: &'a str,
    amount: f64,
    stage: (&'a str, OpportunityStatus),
    close_in: i64,
    owner: usize,
    contacts: &'a [DealContact],
}

/// Competitors of a demo deal, picked from its id so the demo stays the same.
fn demo_competitors(deal: &str) -> Vec<String> {
    const RIVALS: [&str; 4] = [
        "Globex",
        "Initech",
        "Umbrella Analytics",
        "Vandelay Systems",
    ];
    let n = deal.bytes().map(usize::from).sum::<usize>();
    let mut out = vec![RIVALS[n % 4].to_owned()];
    if n % 3 == 0 {
        out.push(RIVALS[(n + 1) % 4].to_owned());
    }
    out
}

/// (person index, role, attitude, solution acceptance, price acceptance,
/// assessed days ago).
type DealContact = (usize, Option<BuyingRole>, Option<Attitude>, u8, u8, i64);

/// One of our people: (id, name, title, department, level, reports to).
type OurRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u8,
    Option<usize>,
);

/// What the demo keeps beside its bundle: the service desk's fields of its
/// service cases (severity, dates, title) and presales and experts on open
/// deals, so the leads and sales-support pages tell a story too. Stored with
/// [`crate::store::Store::save_service_cases`] and
/// [`crate::store::Store::save_deal_support`] after the bundle.
pub struct DemoExtras {
    /// A few recent cases at Lumen Health, whose data team calls service
    /// more and more: a lead.
    pub interactions: Vec<renmai_graph::Interaction>,
    pub cases: Vec<renmai_graph::service::ServiceCase>,
    pub support: Vec<renmai_graph::support::DealSupport>,
}

/// The extras for `bundle` (the demo of the same `today`): one case row per
/// `service_case` interaction between a customer and one of ours, plus the
/// rising Lumen cases and the support assignments.
pub fn demo_extras(today: NaiveDate, bundle: &Bundle) -> DemoExtras {
    use renmai_graph::service::{ServiceCase, Severity};
    use renmai_graph::support::{DealSupport, SupportRole};
    use renmai_graph::{Interaction, InteractionId, InteractionKind, Timestamp};

    const SUBJECTS: [&str; 6] = [
        "Login failures after upgrade",
        "Report export times out",
        "Data feed delayed",
        "Licence count question",
        "Integration error on sync",
        "Dashboard shows stale figures",
    ];
    let org_of: std::collections::HashMap<&PersonId, &OrgId> =
        bundle.people.iter().map(|p| (&p.id, &p.org)).collect();
    let ours: std::collections::HashSet<&OrgId> = bundle
        .organizations
        .iter()
        .filter(|o| o.is_ours)
        .map(|o| &o.id)
        .collect();
    let ours_id = |i: usize| PersonId::parse(&format!("nw-{:02}", i + 1)).expect("an id");
    let midnight = |days_ago: i64| {
        let d = today - chrono::Duration::days(days_ago);
        Timestamp::from_epoch_seconds(
            d.and_hms_opt(14, 0, 0)
                .expect("a time")
                .and_utc()
                .timestamp(),
        )
    };
    let lumen = [
        ("lh-027", 8),
        ("lh-027", 21),
        ("lh-030", 30),
        ("lh-027", 44),
        ("lh-027", 63),
    ];
    let interactions: Vec<Interaction> = lumen
        .iter()
        .enumerate()
        .map(|(i, (contact, days_ago))| Interaction {
            id: InteractionId::parse(&format!("demo-case-lh-{i}")).expect("an id"),
            kind: InteractionKind::ServiceCase,
            at: midnight(*days_ago),
            initiator: person_id(contact),
            participants: vec![person_id(contact), ours_id(SVC)],
            in_reply_to: None,
        })
        .collect();
    let mut cases = Vec::new();
    for (n, ix) in bundle
        .interactions
        .iter()
        .chain(&interactions)
        .filter(|i| i.kind == InteractionKind::ServiceCase)
        .enumerate()
    {
        let customer = ix
            .participants
            .iter()
            .find(|p| org_of.get(p).is_some_and(|o| !ours.contains(*o)));
        let owner = ix
            .participants
            .iter()
            .find(|p| org_of.get(p).is_some_and(|o| ours.contains(*o)));
        let (Some(contact), Some(account)) = (customer, customer.and_then(|c| org_of.get(c)))
        else {
            continue;
        };
        let opened = ix.at;
        let closed =
            Timestamp::from_epoch_seconds(opened.epoch_seconds() + 86_400 * (1 + n as i64 % 6));
        cases.push(ServiceCase {
            case_id: format!("CS-{:05}", 10_000 + n),
            interaction: ix.id.clone(),
            account: (*account).clone(),
            contact: contact.clone(),
            owner: owner.cloned(),
            opened,
            // The newest Lumen case is still open.
            closed: (ix.id.as_str() != "demo-case-lh-0").then_some(closed),
            severity: Some(Severity::ALL[n % Severity::ALL.len()]),
            subject: Some(SUBJECTS[n % SUBJECTS.len()].to_owned()),
        });
    }
    let open_deals = bundle
        .opportunities
        .iter()
        .filter(|o| o.status == renmai_graph::OpportunityStatus::Open);
    let mut support = Vec::new();
    for (n, o) in open_deals.enumerate() {
        let (who, role) = if n % 2 == 0 {
            (SE1, SupportRole::Presales)
        } else {
            (SE2, SupportRole::SolutionExpert)
        };
        support.push(DealSupport {
            opportunity: o.id.clone(),
            person: ours_id(who),
            role,
            from: today - chrono::Duration::days(30 + 15 * n as i64),
            to: None,
        });
    }
    DemoExtras {
        interactions,
        cases,
        support,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::validate::{ExistingRefs, SourceMap, validate};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn midnight(d: NaiveDate) -> i64 {
        d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
    }

    fn org_of(b: &Bundle) -> HashMap<&PersonId, &str> {
        b.people.iter().map(|p| (&p.id, p.org.as_str())).collect()
    }

    fn weight(k: InteractionKind) -> f64 {
        match k {
            InteractionKind::Meeting | InteractionKind::Demo | InteractionKind::Workshop => 3.0,
            InteractionKind::Visit => 4.0,
            InteractionKind::Dinner => 5.0,
            InteractionKind::Call => 2.0,
            InteractionKind::Email | InteractionKind::ServiceCase => 1.0,
        }
    }

    /// DESIGN.md's evidence part of closeness, per (ours, stakeholder) pair
    /// of one account, as of midnight `today`.
    fn evidence(b: &Bundle, account: &str, today: NaiveDate) -> HashMap<(PersonId, PersonId), f64> {
        let orgs = org_of(b);
        let now = midnight(today);
        let mut raw: HashMap<(PersonId, PersonId), f64> = HashMap::new();
        for x in &b.interactions {
            let n = x.participants.len() as f64;
            let age = (now - x.at.epoch_seconds()) as f64 / 86_400.0;
            let w = weight(x.kind) / (n - 1.0) * 2f64.powf(-age / 90.0);
            for u in x.participants.iter().filter(|p| orgs[p] == OURS) {
                for v in x.participants.iter().filter(|p| orgs[p] == account) {
                    *raw.entry((u.clone(), v.clone())).or_default() += w;
                }
            }
        }
        raw.into_iter()
            .map(|(k, r)| (k, 1.0 - (-r / 10.0).exp()))
            .collect()
    }

    fn ours(i: usize) -> PersonId {
        PersonId::parse(&format!("nw-{:02}", i + 1)).unwrap()
    }

    #[test]
    fn same_today_same_bundle_and_stable_content() {
        let a = demo_bundle(today());
        assert_eq!(a, demo_bundle(today()));
        let b = demo_bundle(today() + Duration::days(1));
        assert_eq!(a.people, b.people);
        assert_ne!(a.interactions, b.interactions);
    }

    #[test]
    fn passes_validation_on_several_days() {
        for d in [
            today(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
            NaiveDate::from_ymd_opt(2030, 6, 15).unwrap(),
        ] {
            let b = demo_bundle(d);
            let r = validate(
                &b,
                &SourceMap::synthetic("demo", &b),
                &ExistingRefs::default(),
            );
            assert!(
                r.is_ok(),
                "{d}: {:?}",
                r.unwrap_err().iter().take(5).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn sizes_in_range() {
        let b = demo_bundle(today());
        let accounts: Vec<&Organization> = b.organizations.iter().filter(|o| !o.is_ours).collect();
        assert!(accounts.len() >= 4, "three accounts and a subsidiary");
        assert_eq!(b.organizations.iter().filter(|o| o.is_ours).count(), 1);
        assert_eq!(
            b.organizations
                .iter()
                .find(|o| o.id.as_str() == MAKER_CN)
                .unwrap()
                .parent,
            Some(org_id(MAKER))
        );
        let ours_n = b.people.iter().filter(|p| p.org.as_str() == OURS).count();
        assert!((6..=10).contains(&ours_n), "{ours_n} of ours");
        for acc in &accounts {
            let people: Vec<&Person> = b.people.iter().filter(|p| p.org == acc.id).collect();
            let n = people.len();
            assert!((40..=150).contains(&n), "{}: {n} stakeholders", acc.id);
            let roots = people.iter().filter(|p| p.reports_to.is_none()).count();
            assert_eq!(roots, 1, "{}: one root of the reporting tree", acc.id);
            let roles = people.iter().filter(|p| p.role.is_some()).count();
            assert!(
                roles * 100 >= n * 15 && roles * 100 <= n * 21,
                "{}: {roles} roles of {n}",
                acc.id
            );
            let ids: HashSet<&PersonId> = people.iter().map(|p| &p.id).collect();
            let infl = b
                .influences
                .iter()
                .filter(|i| ids.contains(&i.from))
                .count();
            assert!(
                infl >= n / 2 && infl <= n / 2 + 12,
                "{}: {infl} influence lines",
                acc.id
            );
            assert!(
                b.influences
                    .iter()
                    .all(|i| (0.2..=0.9).contains(&i.strength.get()))
            );
            let team = b.account_team.iter().filter(|t| t.org == acc.id).count();
            assert!((3..=5).contains(&team), "{}: team of {team}", acc.id);
            let opps = b
                .opportunities
                .iter()
                .filter(|o| o.account == acc.id)
                .count();
            // Up to six: past won and lost deals give the deal reports a story.
            assert!((2..=6).contains(&opps), "{}: {opps} opportunities", acc.id);
            let orgs = org_of(&b);
            let ix = b
                .interactions
                .iter()
                .filter(|x| x.participants.iter().any(|p| orgs[p] == acc.id.as_str()))
                .count();
            assert!((200..=3000).contains(&ix), "{}: {ix} interactions", acc.id);
        }
        assert!(b.interactions.iter().any(|x| x.participants.len() >= 4));
        assert!(b.interactions.iter().all(|x| x.participants.len() <= 5));
    }

    #[test]
    fn nothing_after_today_and_history_spans_years() {
        let d = today();
        let b = demo_bundle(d);
        let end = midnight(d);
        let first = b
            .interactions
            .iter()
            .map(|x| x.at.epoch_seconds())
            .min()
            .unwrap();
        let last = b
            .interactions
            .iter()
            .map(|x| x.at.epoch_seconds())
            .max()
            .unwrap();
        assert!(last < end);
        assert!(end - last < 5 * 86_400, "activity up to the last days");
        assert!((end - first) / 86_400 >= 800, "about 2.5 years of history");
        assert!(b.assessments.iter().all(|a| a.at.epoch_seconds() < end));
        assert!(
            b.opportunity_contacts
                .iter()
                .all(|c| c.at.unwrap().epoch_seconds() < end)
        );
        for x in &b.interactions {
            let t = x.at.to_datetime();
            assert!(
                !matches!(t.weekday(), Weekday::Sat | Weekday::Sun),
                "{}",
                x.id
            );
        }
    }

    #[test]
    fn maker_is_single_threaded() {
        let d = today();
        let b = demo_bundle(d);
        let orgs = org_of(&b);
        let since = midnight(d) - 90 * 86_400;
        let mut recent_ours = HashSet::new();
        let mut recent = 0;
        for x in b
            .interactions
            .iter()
            .filter(|x| x.at.epoch_seconds() >= since)
        {
            if x.participants.iter().any(|p| orgs[p] == MAKER) {
                recent += 1;
                recent_ours.extend(x.participants.iter().filter(|p| orgs[p] == OURS).cloned());
            }
        }
        assert!(recent >= 30, "{recent} recent interactions");
        assert_eq!(recent_ours, HashSet::from([ours(AE2)]));
        let strong: Vec<_> = evidence(&b, MAKER, d)
            .into_iter()
            .filter(|(_, e)| *e >= 0.55)
            .collect();
        assert!(strong.len() >= 3, "{strong:?}");
        assert!(
            strong.iter().all(|((u, _), _)| u == &ours(AE2)),
            "{strong:?}"
        );
        let coach = b
            .people
            .iter()
            .find(|p| p.org.as_str() == MAKER && p.role == Some(BuyingRole::Coach))
            .unwrap();
        let best = strong.iter().filter(|((_, v), _)| v == &coach.id).count();
        assert_eq!(best, 1, "the coach is among the strong ties");
    }

    #[test]
    fn hospital_economic_buyer_went_cold() {
        let d = today();
        let b = demo_bundle(d);
        let eb = b
            .people
            .iter()
            .find(|p| p.org.as_str() == HOSPITAL && p.role == Some(BuyingRole::EconomicBuyer))
            .unwrap();
        let day = |n: i64| midnight(d) - n * 86_400;
        let with_eb: Vec<i64> = b
            .interactions
            .iter()
            .filter(|x| x.participants.contains(&eb.id))
            .map(|x| x.at.epoch_seconds())
            .collect();
        assert!(
            with_eb.iter().all(|&t| t < day(120)),
            "untouched for 120 days"
        );
        let then = with_eb
            .iter()
            .filter(|&&t| t >= day(548) && t < day(182))
            .count();
        assert!(then >= 30, "{then} interactions 6-18 months ago");
        let opponent = b
            .people
            .iter()
            .find(|p| {
                p.org.as_str() == HOSPITAL
                    && p.attitude == Some(Attitude::Opponent)
                    && p.level.get() <= 2
            })
            .expect("a senior opponent");
        let lines: Vec<_> = b
            .influences
            .iter()
            .filter(|i| i.from == opponent.id)
            .collect();
        assert!(lines.iter().filter(|i| i.strength.get() >= 0.7).count() >= 5);
        assert!(lines.iter().any(|i| i.to == eb.id));
    }

    #[test]
    fn bank_is_well_covered() {
        let d = today();
        let b = demo_bundle(d);
        let ev = evidence(&b, BANK, d);
        let holders: HashSet<&PersonId> = ev
            .iter()
            .filter(|(_, e)| **e >= 0.55)
            .map(|((u, _), _)| u)
            .collect();
        assert!(holders.len() >= 4, "{holders:?}");
        let strong: HashSet<&PersonId> = ev
            .iter()
            .filter(|(_, e)| **e >= 0.55)
            .map(|((_, v), _)| v)
            .collect();
        let people: Vec<&Person> = b.people.iter().filter(|p| strong.contains(&p.id)).collect();
        let levels: HashSet<u8> = people.iter().map(|p| p.level.get()).collect();
        let depts: HashSet<&str> = people
            .iter()
            .filter_map(|p| p.department.as_deref())
            .collect();
        assert!(
            levels.len() >= 3 && depts.len() >= 3,
            "{levels:?} {depts:?}"
        );
        assert!(
            people
                .iter()
                .any(|p| p.role == Some(BuyingRole::EconomicBuyer))
        );
    }

    #[test]
    fn extras_name_stored_cases_and_open_deals_and_make_lumen_a_lead() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let b = demo_bundle(today);
        let x = demo_extras(today, &b);
        let ids: std::collections::HashSet<_> = b
            .interactions
            .iter()
            .chain(&x.interactions)
            .map(|i| i.id.clone())
            .collect();
        assert!(x.cases.len() > 100, "{} cases", x.cases.len());
        assert!(x.cases.iter().all(|c| ids.contains(&c.interaction)));
        let recent = |who: &str| {
            let since = today - chrono::Duration::days(90);
            x.cases
                .iter()
                .filter(|c| c.contact.as_str() == who)
                .filter(|c| {
                    c.opened.epoch_seconds()
                        >= since.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
                })
                .count()
        };
        assert!(
            recent("lh-027") >= 3,
            "the Lumen data team's cases are recent"
        );
        let open: std::collections::HashSet<_> = b
            .opportunities
            .iter()
            .filter(|o| o.status == renmai_graph::OpportunityStatus::Open)
            .map(|o| &o.id)
            .collect();
        assert_eq!(x.support.len(), open.len());
        assert!(x.support.iter().all(|s| open.contains(&s.opportunity)));
    }
}
