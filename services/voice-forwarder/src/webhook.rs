//! Twilio's webhooks (SPEC §8): a call comes in (`/voice/incoming`), the caller enters a
//! code (`/voice/code`), the forwarded call ends (`/voice/dialed`). Every request's
//! signature is checked before anything is read or counted; a refused one changes nothing.
//!
//! A call gets `voice.max_attempts` prompts for its code (counted by CallSid: a wrong code,
//! an empty entry and no entry each use one) and is then hung up. Guesses are also limited
//! per caller number and for everyone together. A valid code is used up at once and the
//! call is bridged to the operator's number, with the service's number as caller id.
//! Neither numbers nor codes are logged.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use livehelp_bus::{BusError, VoiceClaim};
use livehelp_web::{ApiError, Context};

use crate::signature;
use crate::twiml::{INCOMING_PATH, TwiML};

const WELCOME: &str = "Welcome to live help. Please enter your four digit access code.";
const ENTER_CODE: &str = "Please enter your four digit access code.";
const NOTHING_RECEIVED: &str = "We did not receive a code.";
const EMPTY: &str = "You did not enter a code.";
const NOT_VALID: &str = "That code is not valid.";
const GOODBYE: &str = "Goodbye.";
const TOO_MANY: &str = "Too many attempts. Goodbye.";
const CONNECTING: &str = "Connecting you to the operator.";
const NOT_ANSWERED: &str = "The operator could not take your call. Please try again later.";
const TROUBLE: &str = "Sorry, call forwarding is not available right now. Please try again later.";

/// The window of `voice.attempts_per_caller_per_hour`.
const CALLER_WINDOW: Duration = Duration::from_secs(3600);
/// The window of `voice.attempts_per_minute`.
const GLOBAL_WINDOW: Duration = Duration::from_secs(60);

/// A Twilio request whose signature checked out: its form parameters.
#[derive(Debug)]
struct TwilioRequest {
    params: Vec<(String, String)>,
}

impl TwilioRequest {
    /// Checks that voice is on and the request is signed by Twilio.
    fn accept(ctx: &Context, req: &HttpRequest, body: &[u8]) -> Result<Self, ApiError> {
        crate::ensure_enabled(ctx)?;
        let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        signature::verify(req, &ctx.settings.voice, &params)?;
        Ok(Self { params })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Twilio's id of the call: `CA` and letters or digits.
    fn call_sid(&self) -> Result<&str, ApiError> {
        self.get("CallSid")
            .filter(|s| {
                (2..=64).contains(&s.len())
                    && s.starts_with("CA")
                    && s.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .ok_or_else(|| ApiError::invalid("CallSid: missing or not a Twilio call id"))
    }
}

fn call_outcome(outcome: &'static str) {
    metrics::counter!("livehelp_voice_calls", "outcome" => outcome).increment(1);
}

fn attempt_outcome(outcome: &'static str) {
    metrics::counter!("livehelp_voice_code_attempts", "outcome" => outcome).increment(1);
}

/// Redis failed mid-call: the caller hears an apology, not silence or an application error.
fn trouble(e: &BusError) -> TwiML {
    tracing::warn!(error = %e, "voice call could not be handled");
    call_outcome("failed");
    TwiML::new().say(TROUBLE).hangup()
}

/// Asks for the code; with no entry, says so and starts over at the voice URL (where the
/// prompt counter ends the loop).
fn ask(twiml: TwiML, prompt: &str) -> TwiML {
    twiml
        .gather_code(prompt)
        .say(NOTHING_RECEIVED)
        .redirect(INCOMING_PATH)
}

/// `POST /voice/incoming`: a call arrives, or comes back after entering nothing.
pub async fn incoming(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let call = TwilioRequest::accept(&ctx, &req, &body)?;
    let sid = call.call_sid()?;
    let twiml = match ctx.bus.voice_call_prompt(sid).await {
        Ok(1) => {
            call_outcome("incoming");
            ask(TwiML::new(), WELCOME)
        }
        Ok(n) if n > u64::from(ctx.settings.voice.max_attempts) => {
            call_outcome("gave_up");
            TwiML::new().say(GOODBYE).hangup()
        }
        Ok(_) => ask(TwiML::new(), ENTER_CODE),
        Err(e) => trouble(&e),
    };
    Ok(twiml.respond())
}

/// `POST /voice/code`: the caller entered `Digits`.
pub async fn code(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let call = TwilioRequest::accept(&ctx, &req, &body)?;
    let sid = call.call_sid()?;
    let twiml = match entered(&ctx, &call, sid).await {
        Ok(t) => t,
        Err(e) => trouble(&e),
    };
    Ok(twiml.respond())
}

async fn entered(ctx: &Context, call: &TwilioRequest, sid: &str) -> Result<TwiML, BusError> {
    let voice = &ctx.settings.voice;
    let digits = call.get("Digits").unwrap_or("").trim();
    if digits.is_empty() {
        attempt_outcome("empty");
        return again(ctx, sid, EMPTY).await;
    }
    let caller = call.get("From").unwrap_or("");
    let (mine, all) = ctx
        .bus
        .count_voice_attempt(caller, CALLER_WINDOW, GLOBAL_WINDOW)
        .await?;
    if mine > voice.attempts_per_caller_per_hour || all > voice.attempts_per_minute {
        attempt_outcome("rate_limited");
        call_outcome("rate_limited");
        let scope = if mine > voice.attempts_per_caller_per_hour {
            "caller"
        } else {
            "global"
        };
        tracing::warn!(call = sid, scope, "access code guesses rate limited");
        return Ok(TwiML::new().say(TOO_MANY).hangup());
    }
    match ctx.bus.consume_voice_code(digits).await? {
        Some(claim) => {
            attempt_outcome("valid");
            connect(ctx, &claim, sid).await
        }
        None => {
            attempt_outcome("wrong");
            again(ctx, sid, NOT_VALID).await
        }
    }
}

/// Says what went wrong and asks again, unless the call used up its prompts.
async fn again(ctx: &Context, sid: &str, said: &str) -> Result<TwiML, BusError> {
    let prompt = ctx.bus.voice_call_prompt(sid).await?;
    if prompt > u64::from(ctx.settings.voice.max_attempts) {
        call_outcome("gave_up");
        return Ok(TwiML::new().say(said).say(GOODBYE).hangup());
    }
    Ok(ask(TwiML::new().say(said), ENTER_CODE))
}

/// Bridges the call to the code's operator.
async fn connect(ctx: &Context, claim: &VoiceClaim, sid: &str) -> Result<TwiML, BusError> {
    let Some(phone) = ctx.bus.operator_phone(&claim.operator).await? else {
        // The operator cleared their number after the code was made.
        call_outcome("not_answered");
        return Ok(TwiML::new().say(NOT_ANSWERED).hangup());
    };
    tracing::info!(
        audit = "voice_call",
        operator = %claim.operator,
        session = %claim.session,
        call = sid,
        "call forwarded to the operator"
    );
    call_outcome("connected");
    Ok(TwiML::new()
        .say(CONNECTING)
        .dial(&ctx.settings.voice.number, phone.as_str()))
}

/// `POST /voice/dialed`: the forwarded call ended (`DialCallStatus`).
pub async fn dialed(
    ctx: web::Data<Context>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let call = TwilioRequest::accept(&ctx, &req, &body)?;
    let twiml = match call.get("DialCallStatus").unwrap_or("") {
        "completed" | "answered" => {
            call_outcome("answered");
            TwiML::new().hangup()
        }
        _ => {
            call_outcome("not_answered");
            TwiML::new().say(NOT_ANSWERED).hangup()
        }
    };
    Ok(twiml.respond())
}
