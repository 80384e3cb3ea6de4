use std::path::Path;
use std::sync::Arc;

use renmai::access::{NewUser, Role};
use renmai::bundle::Bundle;
use renmai::store::sqlite::SqliteStore;
use renmai::store::{NoProgress, Store};
use renmai::validate::SourceMap;
use renmai::web::access::SESSION_COOKIE;
use renmai::web::{AppState, app};
use tempfile::TempDir;

/// A fresh embedded store in a temporary folder (removed on drop).
pub struct TestStore {
    pub dir: TempDir,
    pub store: Arc<SqliteStore>,
}

impl TestStore {
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("renmai.db")).expect("open store"));
        TestStore { dir, store }
    }

    pub async fn import(&self, b: Bundle) {
        let src = SourceMap::synthetic("test", &b);
        self.store
            .import(b, src, Arc::new(NoProgress))
            .await
            .expect("import");
    }

    /// The app, every request signed in as an admin (`test-admin`) unless
    /// it carries a session cookie of its own.
    pub fn router(&self) -> axum::Router {
        self.router_as("test-admin", Role::Admin)
    }

    /// The app with nobody signed in.
    pub fn anonymous_router(&self) -> axum::Router {
        app(AppState::new(self.store.clone(), Default::default()))
    }

    /// The app, every request signed in as `user` (created with `role` on
    /// the first request if missing) unless it carries its own session.
    pub fn router_as(&self, user: &str, role: Role) -> axum::Router {
        let cookie: Arc<tokio::sync::OnceCell<String>> = Arc::default();
        let (store, user) = (self.store.clone(), user.to_owned());
        self.anonymous_router().layer(axum::middleware::from_fn(
            move |mut req: axum::extract::Request, next: axum::middleware::Next| {
                let (cookie, store, user) = (cookie.clone(), store.clone(), user.clone());
                async move {
                    let c = cookie
                        .get_or_init(|| sign_in(store.as_ref(), &user, role))
                        .await;
                    add_session_cookie(&mut req, c);
                    next.run(req).await
                }
            },
        ))
    }
}

/// Creates `user` if missing and a session for them; returns the cookie
/// (`name=value`).
pub async fn sign_in(store: &dyn Store, user: &str, role: Role) -> String {
    store
        .create_user(NewUser {
            name: user.to_owned(),
            role,
            password_hash: "not a hash: signs in only through this session".into(),
            person: None,
        })
        .await
        .expect("create user");
    let id = renmai::access::password::random_secret(32);
    let in_a_day = chrono::Utc::now().timestamp() + 86_400;
    store
        .create_session(
            &renmai::auth::sha256_hex(id.as_bytes()),
            user,
            renmai_graph::Timestamp::from_epoch_seconds(in_a_day),
        )
        .await
        .expect("create session");
    format!("{SESSION_COOKIE}={id}")
}

/// Adds the session cookie to a request unless it has one.
fn add_session_cookie(req: &mut axum::extract::Request, session: &str) {
    use axum::http::{HeaderValue, header};
    let existing = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value = match existing {
        Some(c) if c.contains(SESSION_COOKIE) => return,
        Some(c) => format!("{c}; {session}"),
        None => session.to_owned(),
    };
    req.headers_mut()
        .insert(header::COOKIE, HeaderValue::from_str(&value).unwrap());
}

/// Writes a small but complete CSV bundle: our company, one account with a
/// reporting tree, a team, interactions, influences, an assessment and a deal.
pub fn write_small_bundle(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let files: &[(&str, &str)] = &[
        (
            "organizations.csv",
            "org_id,name,industry,region,is_ours\n0,Our Company,Software,EMEA,1\n1,Acme Bank,Financial Services,EMEA,0\n2,Acme Leasing,Financial Services,EMEA,0\n",
        ),
        (
            "people.csv",
            "person_id,org_id,name,title,level,department,role,reports_to\n\
             1,0,Ana Seller,Account Executive,4,Sales,none,\n\
             2,0,Ben Presales,Solutions Engineer,4,Presales,none,\n\
             10,1,Carla Chief,CEO,1,Executive,economic_buyer,\n\
             11,1,Dev Tech,CIO,1,IT,technical_buyer,10\n\
             12,1,Eve User,IT Manager,4,IT,user_buyer,11\n\
             13,1,Finn Coach,Director Procurement,3,Procurement,coach,10\n\
             20,2,Gil Lessor,Managing Director,1,Executive,none,\n",
        ),
        (
            "account_team.csv",
            "org_id,person_id,team_role\n1,1,account_executive\n1,2,solutions_engineer\n",
        ),
        (
            "interactions.csv",
            "interaction_id,from_person,to_person,kind,timestamp,direction\n\
             1,1,10,meeting,2025-11-01T10:00:00Z,outbound\n\
             2,10,1,email,2025-11-02T09:00:00Z,inbound\n\
             3,2,11,demo,2025-10-15T14:00:00Z,outbound\n\
             4,1,13,dinner,2025-09-01T19:00:00Z,outbound\n\
             5,1,2,call,2025-09-02T09:00:00Z,internal\n",
        ),
        (
            "influences.csv",
            "influencer_id,influenced_id,kind,strength\n13,10,trusted_advisor,0.7\n12,11,peer,0.3\n",
        ),
        (
            "assessments.csv",
            "from_person,to_person,level,assessed_at,by_person\n1,10,3,2025-10-01T00:00:00Z,1\n",
        ),
        (
            "opportunities.csv",
            "opportunity_id,account_id,name,status,amount,stage,close_date,owner_id\nop1,1,Core banking renewal,open,250000,proposal,2026-03-31,1\n",
        ),
        (
            "opportunity_contacts.csv",
            "opportunity_id,person_id,role,attitude,solution_acceptance,price_acceptance,assessed_at\nop1,10,economic_buyer,supporter,3,2,2025-11-01T00:00:00Z\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Sorts what has no meaningful order so two bundles can be compared.
pub fn canonical(mut b: Bundle) -> Bundle {
    b.organizations.sort_by(|x, y| x.id.cmp(&y.id));
    b.people.sort_by(|x, y| x.id.cmp(&y.id));
    for p in &mut b.people {
        p.emails.sort();
        p.external_ids.sort();
    }
    b.account_team
        .sort_by(|x, y| (&x.org, &x.person).cmp(&(&y.org, &y.person)));
    b.interactions.sort_by(|x, y| x.id.cmp(&y.id));
    for i in &mut b.interactions {
        i.participants.sort();
    }
    b.influences
        .sort_by(|x, y| (&x.from, &x.to).cmp(&(&y.from, &y.to)));
    b.assessments
        .sort_by(|x, y| (&x.from, &x.to, x.at).cmp(&(&y.from, &y.to, y.at)));
    b.opportunities.sort_by(|x, y| x.id.cmp(&y.id));
    b.opportunity_contacts
        .sort_by(|x, y| (&x.opportunity, &x.person, x.at).cmp(&(&y.opportunity, &y.person, y.at)));
    b.opportunity_stages
        .sort_by(|x, y| (&x.opportunity, x.at).cmp(&(&y.opportunity, y.at)));
    b
}
