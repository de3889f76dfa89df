//! Settings of every livehelp service. Defaults come from `base.yaml` (compiled in), then an
//! optional YAML file named by `LIVEHELP_CONFIG`, then `LIVEHELP__SECTION__KEY` environment
//! variables. Unknown keys and bad values fail at start with a message naming the key.

mod load;
mod model;

pub use load::{SettingsError, load, load_from};
pub use model::{
    AuthSettings, ChatSettings, Limits, LogFormat, LogSettings, MonitorSettings, RedisMode,
    RedisSettings, ServerSettings, Settings, VoiceSettings,
};
