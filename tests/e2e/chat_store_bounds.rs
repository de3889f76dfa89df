//! A conversation's index of client message ids (what makes a retried send stored once)
//! stays bounded however long the conversation runs, and still recognises retries of recent
//! sends, including those made just before the index last filled.

use livehelp_bus::{Bus, CMIDS_PER_INDEX};
use livehelp_protocol::{
    ClientMessageId, ConversationId, MessageId, MessageText, Sender, SenderKind, SessionId, UserId,
};
use livehelp_testkit::{RedisServer, test_bus, test_settings};

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

    let mut conn = redis::Client::open(redis.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    let keys = bus.keys();
    let mut sizes = Vec::new();
    for key in [
        keys.chat_cmids(&conversation),
        keys.chat_cmids_old(&conversation),
    ] {
        let size: usize = redis::cmd("HLEN")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("HLEN");
        sizes.push(size);
    }
    assert_eq!(
        sizes,
        [CMIDS_PER_INDEX / 2, CMIDS_PER_INDEX],
        "the current index holds the sends since it last filled, the previous one a full index"
    );

    // Retries of the newest send, of one made just before the last rotation and of one at
    // the start of the previous index: each is recognised with its stored id.
    let retried = [
        total - 1,
        total - CMIDS_PER_INDEX / 2 - 1,
        total - CMIDS_PER_INDEX * 3 / 2,
    ];
    let mut answers = Vec::new();
    for n in retried {
        answers.push(send(&bus, &conversation, n).await);
    }
    let expected: Vec<(MessageId, bool)> = retried.iter().map(|&n| (ids[n], true)).collect();
    assert_eq!(answers, expected);
}
