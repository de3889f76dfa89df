#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis pool: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("only {got} of {wanted} replicas confirmed the write in time")]
    NotReplicated { wanted: u32, got: u32 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// One failure of a call made for several requests (a batch of messages), given to each.
    #[error("{0}")]
    Shared(std::sync::Arc<BusError>),
}
