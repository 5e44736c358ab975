//! Two service processes on one database: the database, not the process, keeps the
//! invariants.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use partnerlink::db::schema::{
    advisor_associations, events, invitations, partner_relationships, subscriptions,
};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp, TestDb, SECRET};
use crate::invitations::{delegated_admin, invite};
use crate::subscriptions::{advisor_path, buy, world, ADVISOR_A, ADVISOR_B};

/// The release-shaped binary, started with environment variables only.
pub struct Instance {
    child: Child,
    pub address: String,
    /// Where stdout and stderr go, when the test reads them.
    log: Option<PathBuf>,
}

impl Instance {
    /// An instance whose output is discarded.
    pub async fn start(db: &TestDb) -> Self {
        Self::spawn(db, &[("RUST_LOG", "warn")], None).await
    }

    /// An instance with extra environment variables whose stdout and stderr are kept
    /// for `stop` to return.
    pub async fn start_logging(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "instance-{}-{}.log",
            std::process::id(),
            Uuid::new_v4()
        ));
        Self::spawn(db, env, Some(log)).await
    }

    // The child is reaped in `stop` or `Drop`, which clippy cannot see.
    #[allow(clippy::zombie_processes)]
    async fn spawn(db: &TestDb, env: &[(&str, &str)], log: Option<PathBuf>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (stdout, stderr) = match &log {
            // A file, not a pipe: a verbose child would block on a full pipe.
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                (Stdio::from(file.try_clone().unwrap()), Stdio::from(file))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_partnerlink"))
            .env("DATABASE_URL", &db.url)
            .env("PARTNERLINK_LISTEN", format!("127.0.0.1:{port}"))
            .env("PARTNERLINK_JWT_HS256_SECRET", SECRET)
            .env("PARTNERLINK_POOL_SIZE", "3")
            .env("PARTNERLINK_WORKERS", "1")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(format!("{address}/health/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Instance {
                    child,
                    address,
                    log,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("instance on {port} never became ready");
    }

    /// Stops the process as a container runtime does, with SIGTERM (its last log lines
    /// are written on the way out), and returns everything it wrote (empty when not kept).
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let Some(path) = self.log.take() else {
            return String::new();
        };
        let output = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(path);
        output
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(path) = self.log.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[tokio::test]
async fn two_instances_keep_one_current_advisor_and_one_purchase_per_key() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let first = Instance::start(&app.db).await;
    let second = Instance::start(&app.db).await;
    let addresses = [first.address.clone(), second.address.clone()];
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 1}),
    )
    .await;
    let advisor = advisor_path(tenant, &sub);

    let changes = (0..30).map(|i| {
        let url = format!("{}{advisor}", addresses[i % 2]);
        let mpn = if i % 3 == 0 { ADVISOR_A } else { ADVISOR_B };
        app.client
            .put(url)
            .bearer_auth(&admin)
            .json(&json!({"mpnId": mpn}))
            .send()
    });
    let purchases = (0..10).map(|i| {
        let url = format!("{}/v1/tenants/{tenant}/subscriptions", addresses[i % 2]);
        app.client
            .post(url)
            .bearer_auth(&admin)
            .header("Idempotency-Key", "two-instances")
            .json(&json!({"productId": "office-365-e1", "quantity": 2}))
            .send()
    });
    let (changes, purchases) = tokio::join!(
        futures_util::future::join_all(changes),
        futures_util::future::join_all(purchases)
    );
    for res in changes {
        assert_eq!(res.unwrap().status(), 200);
    }
    let mut bought = Vec::new();
    for res in purchases {
        let res = res.unwrap();
        match res.status().as_u16() {
            201 => bought.push(res.json::<Value>().await.unwrap()["id"].clone()),
            409 => {}
            other => panic!("unexpected purchase status {other}"),
        }
    }
    assert!(!bought.is_empty());
    assert!(
        bought.windows(2).all(|w| w[0] == w[1]),
        "every 201 is the same subscription"
    );

    let mut conn = app.conn();
    let keyed: i64 = subscriptions::table
        .filter(subscriptions::product_id.eq("office-365-e1"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(keyed, 1, "one subscription per idempotency key");
    let current: i64 = advisor_associations::table
        .filter(advisor_associations::valid_to.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(current, 1);
    let history: Value = app
        .get(&format!("{advisor}/history"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert_eq!(
            pair[1]["validTo"], pair[0]["validFrom"],
            "gapless, non-overlapping"
        );
    }
    let advisor_events: i64 = events::table
        .filter(events::type_.eq_any(["advisor.added", "advisor.changed"]))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(
        advisor_events as usize,
        items.len(),
        "one event per committed change"
    );
    let purchased: i64 = events::table
        .filter(events::type_.eq("subscription.purchased"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(purchased, 2, "the setup purchase and the keyed one");
}

#[tokio::test]
async fn two_instances_accept_a_21vianet_invitation_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let mut body = delegated_admin(tenant);
    body["offer"] = json!({"kind": "trial", "productId": "office-365-e3", "quantity": 5});
    let invitation = invite(&app, ADVISOR_A, body).await;
    let invitation_id: Uuid = invitation["id"].as_str().unwrap().parse().unwrap();
    let first = Instance::start(&app.db).await;
    let second = Instance::start(&app.db).await;
    let addresses = [first.address.clone(), second.address.clone()];
    let mut conn = app.conn();
    let events_before: i64 = events::table.count().get_result(&mut conn).unwrap();

    let path = format!("/v1/tenants/{tenant}/invitations/{invitation_id}/accept");
    let acceptances = (0..12).map(|i| {
        app.client
            .post(format!("{}{path}", addresses[i % 2]))
            .bearer_auth(&admin)
            .json(&json!({"token": invitation["acceptToken"], "authorizeDelegatedAdmin": true}))
            .send()
    });
    let mut accepted = Vec::new();
    let mut refused = 0;
    for res in futures_util::future::join_all(acceptances).await {
        let res = res.unwrap();
        if res.status() == 200 {
            accepted.push(res.json::<Value>().await.unwrap());
        } else {
            let p = problem(res, 409).await;
            assert_eq!(p["code"], "invitation_not_pending");
            refused += 1;
        }
    }
    assert_eq!((accepted.len(), refused), (1, 11));
    let accepted = &accepted[0];

    let (relationship_id, subscription_id): (Option<Uuid>, Option<Uuid>) = invitations::table
        .filter(invitations::id.eq(invitation_id))
        .select((
            invitations::relationship_id,
            invitations::offer_subscription_id,
        ))
        .first(&mut conn)
        .unwrap();
    let relationships: Vec<Uuid> = partner_relationships::table
        .filter(partner_relationships::invitation_id.eq(invitation_id))
        .select(partner_relationships::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(relationships, [relationship_id.unwrap()]);
    let subscription_ids: Vec<Uuid> = subscriptions::table
        .filter(subscriptions::tenant_id.eq(tenant))
        .select(subscriptions::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(subscription_ids, [subscription_id.unwrap()]);
    assert_eq!(
        accepted["subscription"]["id"],
        subscription_id.unwrap().to_string()
    );

    let recorded: Vec<(String, Value)> = events::table
        .order(events::staged)
        .offset(events_before)
        .select((events::type_, events::data))
        .load(&mut conn)
        .unwrap();
    let types: Vec<&str> = recorded.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "relationship.created",
            "subscription.purchased",
            "advisor.added",
            "invitation.accepted"
        ],
        "the events of one acceptance, once"
    );
    let (_, data) = &recorded[3];
    assert_eq!(data["invitationId"], invitation_id.to_string());
    assert_eq!(data["relationshipId"], relationship_id.unwrap().to_string());
    assert_eq!(data["subscriptionId"], subscription_id.unwrap().to_string());
}
