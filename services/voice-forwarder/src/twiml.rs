//! TwiML answers (`text/xml`, a `<Response>` root), written through an escaping writer so
//! no value reaches the XML unescaped.

use actix_web::HttpResponse;

/// Where Twilio posts the digits a caller entered.
pub const CODE_PATH: &str = "/voice/code";
/// The number's voice URL: a new call, or a caller who entered nothing.
pub const INCOMING_PATH: &str = "/voice/incoming";
/// Where Twilio reports how the forwarded call went (`<Dial action>`).
pub const DIALED_PATH: &str = "/voice/dialed";

/// Seconds Twilio waits for the first digit.
const GATHER_TIMEOUT_S: &str = "10";
/// Seconds the operator's phone rings.
const DIAL_TIMEOUT_S: &str = "20";

/// `text` with XML's special characters escaped, for element text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A TwiML document being written, verb by verb.
#[derive(Debug)]
pub struct TwiML {
    xml: String,
}

impl Default for TwiML {
    fn default() -> Self {
        Self::new()
    }
}

impl TwiML {
    pub fn new() -> Self {
        Self {
            xml: String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#),
        }
    }

    fn open(&mut self, name: &str, attributes: &[(&str, &str)], empty: bool) {
        self.xml.push('<');
        self.xml.push_str(name);
        for (key, value) in attributes {
            self.xml.push(' ');
            self.xml.push_str(key);
            self.xml.push_str("=\"");
            self.xml.push_str(&escape(value));
            self.xml.push('"');
        }
        self.xml.push_str(if empty { "/>" } else { ">" });
    }

    fn close(&mut self, name: &str) {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
    }

    fn element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.open(name, attributes, false);
        self.xml.push_str(&escape(text));
        self.close(name);
    }

    /// Speaks `text`.
    pub fn say(mut self, text: &str) -> Self {
        self.element("Say", &[], text);
        self
    }

    /// Asks for the 4-digit code while speaking `prompt`; Twilio posts it to [`CODE_PATH`].
    /// With no entry Twilio goes on with the next verb.
    pub fn gather_code(mut self, prompt: &str) -> Self {
        self.open(
            "Gather",
            &[
                ("input", "dtmf"),
                ("numDigits", "4"),
                ("action", CODE_PATH),
                ("method", "POST"),
                ("timeout", GATHER_TIMEOUT_S),
            ],
            false,
        );
        self.element("Say", &[], prompt);
        self.close("Gather");
        self
    }

    /// Fetches the next TwiML from `url`.
    pub fn redirect(mut self, url: &str) -> Self {
        self.element("Redirect", &[("method", "POST")], url);
        self
    }

    /// Bridges the call to `number`, showing `caller_id`; Twilio reports the outcome to
    /// [`DIALED_PATH`].
    pub fn dial(mut self, caller_id: &str, number: &str) -> Self {
        self.open(
            "Dial",
            &[
                ("callerId", caller_id),
                ("action", DIALED_PATH),
                ("method", "POST"),
                ("timeout", DIAL_TIMEOUT_S),
            ],
            false,
        );
        self.element("Number", &[], number);
        self.close("Dial");
        self
    }

    pub fn hangup(mut self) -> Self {
        self.open("Hangup", &[], true);
        self
    }

    pub fn into_xml(mut self) -> String {
        self.close("Response");
        self.xml
    }

    pub fn respond(self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/xml; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(self.into_xml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let xml = TwiML::new()
            .say(r#"a < b & "c" 'd' > e"#)
            .dial("+1\"><Hangup/>", "+12025550123")
            .into_xml();
        assert!(xml.contains("<Say>a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e</Say>"));
        assert!(xml.contains(r#"callerId="+1&quot;&gt;&lt;Hangup/&gt;""#));
        assert!(!xml.contains("<Hangup/>"));
        assert!(xml.ends_with("</Response>"));
    }

    #[test]
    fn a_gather_asks_for_four_digits() {
        let xml = TwiML::new()
            .gather_code("Enter it")
            .redirect(INCOMING_PATH)
            .into_xml();
        assert_eq!(
            xml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#,
                r#"<Gather input="dtmf" numDigits="4" action="/voice/code" method="POST" timeout="10">"#,
                r#"<Say>Enter it</Say></Gather>"#,
                r#"<Redirect method="POST">/voice/incoming</Redirect></Response>"#
            )
        );
    }
}
