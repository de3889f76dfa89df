//! A conversation's index of client message ids (what makes a retried send stored once)
//! and its stream stay bounded however long the conversation runs, the index still
//! recognises retries of recent sends, including those made just before it last filled,
//! and the conversation's keys always expire.

use livehelp_bus::{
    Bus, CMIDS_HASHED_FROM, CMIDS_MARKER_FIELD, CMIDS_PER_INDEX, MAX_MESSAGES_PER_CONVERSATION,
    UPKEEP_EVERY,
};
use livehelp_protocol::{
    ClientMessageId, ConversationId, MessageId, MessageText, Sender, SenderKind, SessionId, UserId,
};
use livehelp_testkit::{RedisServer, test_bus, test_settings};
use redis::aio::MultiplexedConnection;

async fn send(bus: &Bus, conversation: &ConversationId, n: usize) -> (MessageId, bool) {
    let stored = bus
        .queue_message(
            conversation,
            &ClientMessageId::parse(format!("c{n}")).expect("cmid"),
            Sender {
                kind: SenderKind::User,
                id: UserId::parse("writer").expect("id"),
                name: None,
            },
            None,
            MessageText::parse(format!("m{n}")).expect("text"),
            "2026-11-24T00:00:00Z".to_owned(),
        )
        .expect("queued")
        .await
        .expect("stored");
    (stored.id, stored.duplicate)
}

/// A command on one key that answers a number: `HLEN`, `XLEN`, or `TTL` (in seconds: -1
/// without an expiry, -2 when the key does not exist).
async fn count(conn: &mut MultiplexedConnection, command: &str, key: &str) -> i64 {
    redis::cmd(command)
        .arg(key)
        .query_async(conn)
        .await
        .unwrap_or_else(|e| panic!("{command} {key}: {e}"))
}

/// The client ids an index holds: its fields but the one that keeps it a hash table.
async fn ids_held(conn: &mut MultiplexedConnection, index: &str) -> usize {
    let marked: bool = redis::cmd("HEXISTS")
        .arg(index)
        .arg(CMIDS_MARKER_FIELD)
        .query_async(conn)
        .await
        .expect("HEXISTS");
    count(conn, "HLEN", index).await as usize - usize::from(marked)
}

/// How Redis holds a key (`OBJECT ENCODING`): `listpack` or `hashtable` for a hash.
async fn encoding(conn: &mut MultiplexedConnection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query_async(conn)
        .await
        .expect("OBJECT ENCODING")
}

async fn connect(redis: &RedisServer) -> MultiplexedConnection {
    redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connection")
}

#[tokio::test]
async fn the_client_id_index_stays_bounded_and_recent_retries_are_still_recognised() {
    let redis = RedisServer::start().expect("redis");
    let bus = test_bus(&test_settings(&redis.url(), None));
    let conversation = ConversationId::group(SessionId::parse("long").expect("id"));

    // Two and a half indexes' worth of sends, in order.
    let total = CMIDS_PER_INDEX * 5 / 2;
    let mut ids = Vec::with_capacity(total);
    for n in 0..total {
        let (id, duplicate) = send(&bus, &conversation, n).await;
        assert!(!duplicate, "send {n} is new");
        ids.push(id);
    }

    // An index is replaced once full, checked every UPKEEP_EVERY sends: it may overfill by
    // fewer than that many ids.
    let mut conn = connect(&redis).await;
    let keys = bus.keys();
    let (stream, index, old) = (
        keys.chat(&conversation),
        keys.chat_cmids(&conversation),
        keys.chat_cmids_old(&conversation),
    );
    let (current, previous) = (
        ids_held(&mut conn, &index).await,
        ids_held(&mut conn, &old).await,
    );
    let full = CMIDS_PER_INDEX - 1..CMIDS_PER_INDEX + UPKEEP_EVERY as usize;
    assert!(
        full.contains(&previous),
        "the previous index is one full index: {previous} ids"
    );
    assert!(
        current > 0 && current < previous,
        "the current index holds the sends since the last one filled: {current} ids"
    );
    for key in [&stream, &index, &old] {
        assert!(count(&mut conn, "TTL", key).await > 0, "{key} expires");
    }
    // The stream is trimmed by the sends that keep the conversation up: it may hold the
    // sends since the last of them more, and Redis trims whole nodes (of 100 entries).
    let kept = count(&mut conn, "XLEN", &stream).await as usize;
    let bound =
        MAX_MESSAGES_PER_CONVERSATION..MAX_MESSAGES_PER_CONVERSATION + UPKEEP_EVERY as usize + 100;
    assert!(
        bound.contains(&kept),
        "the stream keeps about the newest {MAX_MESSAGES_PER_CONVERSATION} messages: {kept}"
    );

    // Retries of the newest send, of the last one before the index was replaced and of the
    // oldest one kept: each is recognised with its stored id. One older than that is too
    // old: it is stored again.
    let retried = [total - 1, total - current - 1, total - current - previous];
    let mut answers = Vec::new();
    for n in retried {
        answers.push(send(&bus, &conversation, n).await);
    }
    let expected: Vec<(MessageId, bool)> = retried.iter().map(|&n| (ids[n], true)).collect();
    assert_eq!(answers, expected);
    let forgotten = total - current - previous - 1;
    let (id, duplicate) = send(&bus, &conversation, forgotten).await;
    assert!(
        !duplicate && id > ids[total - 1],
        "a forgotten id is a new send"
    );
}

#[tokio::test]
async fn a_conversation_whose_keys_are_gone_gets_them_back_with_an_expiry() {
    let redis = RedisServer::start().expect("redis");
    let bus = test_bus(&test_settings(&redis.url(), None));
    let conversation = ConversationId::group(SessionId::parse("gone").expect("id"));
    let keys = bus.keys();
    let stream = keys.chat(&conversation);
    let index = keys.chat_cmids(&conversation);
    let mut conn = connect(&redis).await;

    // The first send keeps the conversation up; the next one (of fewer than UPKEEP_EVERY,
    // within the minute) would not, but finds the keys gone (evicted, or deleted by hand).
    send(&bus, &conversation, 0).await;
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .arg(&index)
        .query_async(&mut conn)
        .await
        .expect("DEL");
    let (id, duplicate) = send(&bus, &conversation, 1).await;
    assert!(!duplicate);
    for key in [&stream, &index] {
        assert!(
            count(&mut conn, "TTL", key).await > 0,
            "{key} is back, and expires"
        );
    }
    let stored = bus.all_messages(&conversation).await.expect("history");
    let stored: Vec<MessageId> = stored.iter().map(|(m, _)| m.id).collect();
    assert_eq!(stored, [id]);
}

#[tokio::test]
async fn a_long_conversations_index_is_a_hash_table_and_a_short_ones_stays_packed() {
    let redis = RedisServer::start().expect("redis");
    let bus = test_bus(&test_settings(&redis.url(), None));
    let mut conn = connect(&redis).await;
    let keys = bus.keys();
    let short = ConversationId::group(SessionId::parse("short").expect("id"));
    let long = ConversationId::group(SessionId::parse("long").expect("id"));

    // Past the threshold by one upkeep's worth of sends, and well under Redis's own limit
    // for packed hashes (512 fields by default), where only the marker makes a hash table.
    let sends = CMIDS_HASHED_FROM + UPKEEP_EVERY as usize + 1;
    assert!(sends < 512);
    let (first, _) = send(&bus, &long, 0).await;
    for n in 1..sends {
        send(&bus, &long, n).await;
    }
    for n in 0..CMIDS_HASHED_FROM / 2 {
        send(&bus, &short, n).await;
    }

    let (long_index, short_index) = (keys.chat_cmids(&long), keys.chat_cmids(&short));
    assert_eq!(encoding(&mut conn, &long_index).await, "hashtable");
    assert_eq!(ids_held(&mut conn, &long_index).await, sends);
    assert_eq!(encoding(&mut conn, &short_index).await, "listpack");
    assert_eq!(
        ids_held(&mut conn, &short_index).await,
        CMIDS_HASHED_FROM / 2
    );

    // The marker is no client id: the first send's retry is still recognised, and the
    // history holds the messages only.
    assert_eq!(send(&bus, &long, 0).await, (first, true));
    let history = bus.all_messages(&long).await.expect("history");
    assert_eq!(history.len(), sends);
}
