//! The chaos test (issue 9): users and operators chat through nginx to two instances of
//! each service while instances are SIGKILLed and restarted at random; then the invariants
//! must hold — every acknowledged message reached everyone who should see it exactly once
//! and in order, nobody is stuck, and the operators' monitors show what is really going on.
//!
//! `LIVEHELP_CHAOS_KILLS` sets how many processes die (default 20, about half a minute);
//! `LIVEHELP_CHAOS_SEED` replays a run's choices. The result is one line on stderr:
//! `chaos: kills=.. sent=.. acknowledged=.. delivered=.. lost=0 duplicated=0 reordered=0`.

mod fleet;
mod ledger;
mod link;
mod monitor_view;
mod participant;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use livehelp_testkit::{HOST_API_KEY, Identities, WsClient};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use fleet::Fleet;
use ledger::{Tally, tally};
use monitor_view::Monitor;
use participant::{Attached, Command, Kind, Pace, Participant, Spec};

/// Help sessions and their users (each user has a private chat with an operator).
const HELP: [(&str, &[&str]); 2] = [("ch-a", &["a1", "a2"]), ("ch-b", &["b1"])];
/// One peer session whose users share a group chat.
const PEER: (&str, &[&str]) = ("ch-p", &["p1", "p2", "p3"]);
const OPERATORS: [&str; 2] = ["o1", "o2"];
const OPERATOR_PHONE: &str = "+12025550123";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Waits for `done` to hold, checking every 100 ms, until `within` has passed.
async fn until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

async fn set_status(fleet: &Fleet, session: &str, status: Value) {
    let response = reqwest::Client::new()
        .put(fleet.url(&format!("/chat/api/sessions/{session}/status")))
        .bearer_auth(HOST_API_KEY)
        .json(&status)
        .send()
        .await
        .expect("host api");
    assert_eq!(response.status(), 200, "setting {session}'s status");
}

/// Who takes part: the operators follow every help conversation, each user their own.
fn scenario(ids: &Identities) -> Vec<Spec> {
    let mut specs = Vec::new();
    for o in OPERATORS {
        specs.push(Spec {
            id: o.to_owned(),
            kind: Kind::Operator,
            token: ids.operator(o, Some(o)),
            follows: help_conversations(),
        });
    }
    for (session, users) in HELP {
        for u in users {
            specs.push(Spec {
                id: (*u).to_owned(),
                kind: Kind::User,
                token: ids.user(u, session, Some(u)),
                follows: vec![format!("{session}/{u}")],
            });
        }
    }
    for u in PEER.1 {
        specs.push(Spec {
            id: (*u).to_owned(),
            kind: Kind::User,
            token: ids.user(u, PEER.0, Some(u)),
            follows: vec![PEER.0.to_owned()],
        });
    }
    specs
}

fn help_conversations() -> Vec<String> {
    HELP.iter()
        .flat_map(|(s, users)| users.iter().map(move |u| format!("{s}/{u}")))
        .collect()
}

/// What the monitor should show, from the users' own chat states: every session on, and
/// per session its chats as (conversation, attached operator).
fn expected_rows(participants: &[Participant]) -> BTreeMap<String, Vec<(String, Option<String>)>> {
    let mut rows: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for p in participants.iter().filter(|p| p.spec.kind == Kind::User) {
        let r = p.record();
        let Some(state) = &r.state else { continue };
        let chat = (
            state["conversation"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            state["operator"]["id"].as_str().map(str::to_owned),
        );
        let session = state["session"].as_str().unwrap_or_default().to_owned();
        rows.entry(session).or_default().push(chat);
    }
    for chats in rows.values_mut() {
        chats.sort();
    }
    rows
}

fn shown_rows(rows: &BTreeMap<String, Value>) -> BTreeMap<String, Vec<(String, Option<String>)>> {
    rows.iter()
        .filter(|(_, row)| row["status"] == "on" && row["blocked"] == false)
        .map(|(session, row)| {
            let mut chats: Vec<_> = row["chats"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    (
                        c["conversation"].as_str().unwrap_or_default().to_owned(),
                        c["operator"]["id"].as_str().map(str::to_owned),
                    )
                })
                .collect();
            chats.sort();
            (session.clone(), chats)
        })
        .chain(
            // Rows not "on" are shown as such, so they can never match.
            rows.iter()
                .filter(|(_, row)| row["status"] != "on" || row["blocked"] != false)
                .map(|(s, row)| (s.clone(), vec![(format!("status {}", row["status"]), None)])),
        )
        .collect()
}

/// `LIVEHELP_CHAOS_DEBUG=1`: every kill and restart as it happens, and at the end each
/// participant's connections and nginx's error log.
fn debugging() -> bool {
    std::env::var_os("LIVEHELP_CHAOS_DEBUG").is_some()
}

/// Milliseconds since the epoch, to line up kills with a client's reconnects.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A timestamped debugging line (UTC time of day), to line up with nginx's log.
fn trace(line: &str) {
    if debugging() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let (s, ms) = (now.as_secs() % 86400, now.subsec_millis());
        report(&format!(
            "{:02}:{:02}:{:02}.{ms:03} {line}",
            s / 3600,
            s / 60 % 60,
            s % 60
        ));
    }
}

fn report(line: &str) {
    // Straight to stderr, past the test harness's capture: the figures belong in every
    // run's output, passing or not.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_loses_and_duplicates_nothing() {
    let kills_wanted = env_number("LIVEHELP_CHAOS_KILLS", 20) as usize;
    let seed = env_number("LIVEHELP_CHAOS_SEED", rand::random());
    let started = Instant::now();
    let mut fleet = tokio::task::spawn_blocking(Fleet::start)
        .await
        .expect("join")
        .expect("the fleet starts");
    let ids = Identities::default();

    for (session, _) in HELP {
        set_status(
            &fleet,
            session,
            json!({"availability": "available", "mode": "help", "partner_roles": "advocate", "title": session}),
        )
        .await;
    }
    set_status(
        &fleet,
        PEER.0,
        json!({"availability": "available", "mode": "peer", "title": PEER.0}),
    )
    .await;

    // Operators: a monitor each (available, serving advocate), then a chat socket that
    // follows every help conversation.
    let monitors: Vec<Monitor> = OPERATORS
        .iter()
        .map(|o| {
            let phone = (*o == "o1").then_some(OPERATOR_PHONE);
            Monitor::spawn(fleet.ws_url("/monitor/ws"), ids.operator(o, Some(o)), phone)
        })
        .collect();
    assert!(
        until(Duration::from_secs(20), || monitors
            .iter()
            .all(|m| m.view().available))
        .await,
        "operators become available"
    );

    let chatting = Arc::new(AtomicBool::new(false));
    let pace = Pace {
        chatting: chatting.clone(),
        every: Duration::from_millis(150),
    };
    let attached = Attached::default();
    let chat_url = fleet.ws_url("/chat/ws");
    let participants: Vec<Participant> = scenario(&ids)
        .into_iter()
        .map(|s| Participant::spawn(s, chat_url.clone(), pace.clone(), attached.clone()))
        .collect();
    let ready = until(Duration::from_secs(20), || {
        participants.iter().all(|p| {
            let r = p.record();
            match (p.spec.kind, &r.state) {
                (Kind::Operator, _) => r.connects > 0,
                (Kind::User, Some(s)) => {
                    s["active"] == true && (s["mode"] == "peer" || s["operator"]["id"].is_string())
                }
                (Kind::User, None) => false,
            }
        })
    })
    .await;
    assert!(
        ready,
        "every user chats, help users with an operator attached"
    );

    // Chaos: everyone chats while processes die.
    chatting.store(true, Ordering::Relaxed);
    let chaos_started = Instant::now();
    let (returned, kills) = tokio::task::spawn_blocking(move || {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
        while kills.values().sum::<usize>() < kills_wanted {
            for service in fleet.strike(&mut rng).expect("a killed instance restarts") {
                *kills.entry(service).or_default() += 1;
            }
        }
        (fleet, kills)
    })
    .await
    .expect("join");
    let fleet = returned;
    let chaos_time = chaos_started.elapsed();
    chatting.store(false, Ordering::Relaxed);
    assert!(fleet.all_running());

    // Everything in flight settles: acknowledged, and delivered to everyone.
    let settled = until(Duration::from_secs(60), || tally(&participants).settled()).await;
    let after_chaos = tally(&participants);

    // Nobody is stuck: each participant writes once more and everyone concerned sees it.
    let stuck = write_once_more(&participants, &attached).await;
    let final_tally = tally(&participants);

    // The monitors show reality: the long-lived ones (reconnected through every kill) and
    // a freshly opened one.
    let monitors_match = monitors_converge(&fleet, &ids, &monitors, &participants).await;

    let kills_by_service = kills;
    let kills: usize = kills_by_service.values().sum();
    let line = chaos_line(kills, &final_tally);
    let resent: u64 = participants.iter().map(|p| p.record().resent).sum();
    let reconnects: u64 = participants
        .iter()
        .map(|p| p.record().connects)
        .sum::<u64>()
        + monitors.iter().map(|m| m.view().connects).sum::<u64>();
    let errors: BTreeMap<String, u64> = participants.iter().fold(BTreeMap::new(), |mut all, p| {
        for (code, n) in &p.record().errors {
            *all.entry(code.clone()).or_default() += n;
        }
        all
    });
    let availability_lost: u64 = monitors.iter().map(|m| m.view().availability_lost).sum();
    if debugging() {
        report(&fleet.nginx.error_log());
        for p in &participants {
            let r = p.record();
            report(&format!(
                "{}: connections={} failed={:?} written={} resent={}",
                p.spec.id, r.connects, r.connect_errors, r.sent, r.resent
            ));
        }
    }
    report(&format!(
        "{line} (seed={seed} chaos={:.0}s total={:.0}s kills={kills_by_service:?} \
         connections={reconnects} resent={resent} availability_lost={availability_lost} \
         errors={errors:?})",
        chaos_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));

    assert!(kills >= kills_wanted);
    if !settled {
        report(&fleet.timeline.join("\n"));
    }
    assert!(
        settled,
        "after the chaos, in flight messages never settled: {after_chaos:?}\n{}",
        after_chaos.gaps.join("\n")
    );
    assert!(
        final_tally.clean(),
        "invariants broken: {final_tally:?}; {line}"
    );
    assert!(stuck.is_empty(), "stuck participants: {stuck:?}");
    assert!(
        final_tally.sent > 0 && final_tally.acknowledged == final_tally.sent,
        "every message written was acknowledged: {final_tally:?}"
    );
    let expected = expected_rows(&participants);
    let chats: Vec<usize> = expected.values().map(Vec::len).collect();
    assert_eq!(
        chats,
        [2, 1, 3],
        "every user's chat is listed: {expected:?}"
    );
    for (session, chats) in &expected {
        for (conversation, operator) in chats {
            assert!(
                session == PEER.0 || operator.is_some(),
                "{conversation} has an operator attached"
            );
        }
    }
    if let Err(mismatch) = monitors_match {
        panic!("the monitors do not match reality: {mismatch}");
    }
    the_other_services_still_work(&fleet, &ids, &participants).await;
}

/// Waits up to 20 s until the long-lived monitors and a freshly opened one show what the
/// users' chat states say; otherwise says what each showed.
async fn monitors_converge(
    fleet: &Fleet,
    ids: &Identities,
    monitors: &[Monitor],
    participants: &[Participant],
) -> Result<(), String> {
    let token = ids.operator("o1", Some("o1"));
    let url = fleet.ws_url("/monitor/ws");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let expected = expected_rows(participants);
        let fresh = monitor_view::snapshot(&url, &token)
            .await
            .map(|rows| shown_rows(&rows))
            .unwrap_or_default();
        let long_lived: Vec<_> = monitors
            .iter()
            .map(|m| shown_rows(&m.view().rows))
            .collect();
        if fresh == expected && long_lived.iter().all(|rows| *rows == expected) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "expected {expected:?}, a fresh monitor shows {fresh:?}, the long-lived ones {long_lived:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Each participant writes one more message (an operator to a chat attached to them);
/// returns who could not get theirs acknowledged and delivered within 30 s.
async fn write_once_more(participants: &[Participant], attached: &Attached) -> Vec<String> {
    let written_before: Vec<u64> = participants.iter().map(|p| p.record().sent).collect();
    for p in participants {
        let conversation = match p.spec.kind {
            Kind::User => p.spec.follows[0].clone(),
            Kind::Operator => {
                let attached = participant::lock(attached);
                p.spec
                    .follows
                    .iter()
                    .find(|c| attached.get(*c) == Some(&p.spec.id))
                    .unwrap_or(&p.spec.follows[0])
                    .clone()
            }
        };
        let _ = p.commands.send(Command::Send(conversation));
    }
    let written = || {
        participants
            .iter()
            .zip(&written_before)
            .all(|(p, before)| p.record().sent > *before)
    };
    if until(Duration::from_secs(30), || {
        written() && tally(participants).settled()
    })
    .await
    {
        return Vec::new();
    }
    participants
        .iter()
        .filter(|p| !p.record().pending.is_empty())
        .map(|p| {
            format!(
                "{}: {:?}",
                p.spec.id,
                p.record().pending.keys().collect::<Vec<_>>()
            )
        })
        .chain((!written()).then(|| "a final message was never written".to_owned()))
        .chain(
            (tally(participants).lost > 0)
                .then(|| format!("undelivered: {:?}", tally(participants))),
        )
        .collect()
}

fn chaos_line(kills: usize, t: &Tally) -> String {
    format!(
        "chaos: kills={kills} sent={} acknowledged={} delivered={} lost={} duplicated={} reordered={}",
        t.sent, t.acknowledged, t.delivered, t.lost, t.duplicated, t.reordered
    )
}

/// After the chaos, screen-mirror relays a user's page to an observing operator and
/// voice-forwarder gives an operator an access code that reaches the user's chat state.
async fn the_other_services_still_work(
    fleet: &Fleet,
    ids: &Identities,
    participants: &[Participant],
) {
    let (session, users) = HELP[0];
    let mirror = fleet.ws_url("/mirror/ws");
    let mut observer = WsClient::connect(&mirror, Some(&ids.operator("o1", Some("o1"))))
        .await
        .expect("observer");
    observer
        .send_json(json!({"type": "mirror.observe", "session": session, "on": true}))
        .await;
    let mut page = WsClient::connect(&mirror, Some(&ids.user(users[0], session, None)))
        .await
        .expect("mirrored user");
    page.next_of_type("mirror.snapshot").await;
    let events = json!([{"type": 4, "data": {"href": "https://host.example/after-chaos"}}]);
    page.send_json(json!({"type": "mirror.events", "events": events}))
        .await;
    assert_eq!(
        observer.next_of_type("mirror.events").await["events"],
        events
    );

    let issued: Value = reqwest::Client::new()
        .post(fleet.url(&format!("/voice/api/sessions/{session}/forward")))
        .bearer_auth(ids.operator("o1", Some("o1")))
        .send()
        .await
        .expect("forward")
        .error_for_status()
        .expect("forwarding starts")
        .json()
        .await
        .expect("json");
    let code = issued["code"].as_str().expect("a code").to_owned();
    let user = participants
        .iter()
        .find(|p| p.spec.id == users[0])
        .expect("the user");
    assert!(
        until(Duration::from_secs(10), || user
            .record()
            .state
            .as_ref()
            .is_some_and(|s| s["phone"]["code"] == code.as_str()))
        .await,
        "the access code reaches the user's chat state"
    );
}
