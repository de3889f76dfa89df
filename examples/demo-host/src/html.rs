//! Server-rendered pages. Every string that did not come from this file goes through
//! [`escape`].

use std::fmt::Write as _;

use crate::session::{Role, Visitor};
use crate::store::Answers;

/// The topics step 2 offers.
pub const TOPICS: [&str; 3] = ["Benefits", "Housing", "Family law"];

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "<style>\
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:40rem;margin:2rem auto;padding:0 1rem}\
label{font-weight:600}\
input[type=text],select,textarea{display:block;font:inherit;margin-top:.25rem;width:100%;max-width:28rem}\
.error{color:#a00000;font-weight:600}\
.notice{background:#fff5d6;padding:.5rem}\
</style>";

const LIVEHELP_CSS: &str = r#"<link rel="stylesheet" href="/static/livehelp/livehelp.css">"#;
const WIDGET_SCRIPT: &str =
    r#"<script src="/static/livehelp/widget.js" data-token-url="/livehelp/token" defer></script>"#;

/// A whole page. Interview pages embed the livehelp widget.
fn layout(title: &str, body: &str, embed_widget: bool) -> String {
    let (css, script) = if embed_widget {
        (LIVEHELP_CSS, WIDGET_SCRIPT)
    } else {
        ("", "")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n{STYLE}\n{css}\n</head>\n<body>\n<main>\n{body}</main>\n\
         {script}\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// An error paragraph for a field, and the attributes that tie the field to it.
fn field_error(id: &str, error: Option<&str>) -> (String, String) {
    match error {
        Some(e) => (
            format!(
                "<p class=\"error\" id=\"{id}-error\" role=\"alert\">{}</p>\n",
                escape(e)
            ),
            format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""),
        ),
        None => (String::new(), String::new()),
    }
}

pub fn landing(visitor: Option<&Visitor>) -> String {
    let mut body = String::from(
        "<h1>Demo interview</h1>\n\
         <p>A small host application with livehelp embedded in a guided interview.</p>\n",
    );
    if let Some(v) = visitor {
        let who = v
            .name
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| "an anonymous visitor".into());
        let _ = writeln!(body, "<p>Signed in as {who} ({}).</p>", v.role.as_str());
    }
    body.push_str(
        "<ul>\n<li><a href=\"/interview\">Start the interview</a></li>\n\
         <li><a href=\"/login\">Operator sign-in</a></li>\n</ul>\n",
    );
    if visitor.is_some() {
        body.push_str(
            "<form method=\"post\" action=\"/logout\">\
             <button type=\"submit\">Sign out</button></form>\n",
        );
    }
    layout("Demo interview", &body, false)
}

pub fn login(
    name: &str,
    role: Option<Role>,
    name_error: Option<&str>,
    role_error: Option<&str>,
) -> String {
    let (name_err, name_attrs) = field_error("name", name_error);
    let (role_err, role_attrs) = field_error("role", role_error);
    let mut options = String::new();
    for r in Role::ALL {
        let selected = if Some(r) == role { " selected" } else { "" };
        let _ = writeln!(
            options,
            "<option value=\"{0}\"{selected}>{0}</option>",
            r.as_str()
        );
    }
    let body = format!(
        "<h1>Sign in</h1>\n\
         <p>Development sign-in: no password. Operators are advocate and admin; developer is \
         staff without operator privileges.</p>\n\
         <form method=\"post\" action=\"/login\">\n\
         <p><label for=\"name\">Name</label>\n{name_err}\
         <input type=\"text\" id=\"name\" name=\"name\" value=\"{name}\" maxlength=\"100\" \
         autocomplete=\"name\" required{name_attrs}></p>\n\
         <p><label for=\"role\">Role</label>\n{role_err}\
         <select id=\"role\" name=\"role\"{role_attrs}>\n{options}</select></p>\n\
         <p><button type=\"submit\">Sign in</button></p>\n</form>\n\
         <p><a href=\"/\">Back to the start</a></p>\n",
        name = escape(name),
    );
    layout("Sign in — Demo interview", &body, false)
}

/// Shown on interview pages to staff, whose widget acts as staff rather than as a user. An
/// operator who joined a user's session is told whose answers they are changing.
fn staff_notice(v: &Visitor) -> String {
    if v.co_participant {
        let who = v
            .name
            .as_deref()
            .map(escape)
            .unwrap_or_else(|| escape(&v.uid));
        format!(
            "<p class=\"notice\">You joined this interview as {who} ({}). \
             Your answers are the user's answers: they see your changes after their next page \
             change. Chat with the user from the monitor.</p>\n",
            v.role.as_str()
        )
    } else if v.role.is_staff() {
        format!(
            "<p class=\"notice\">You are signed in as staff ({}). The interview is meant for \
             users: open it in a private window to try it as one.</p>\n",
            v.role.as_str()
        )
    } else {
        String::new()
    }
}

/// The path of the link that lets someone else join the interview session `sid`.
pub fn invite_path(sid: &str) -> String {
    format!("/interview/join/{sid}")
}

/// On the pages of a multi-user interview: the link others follow to join it.
fn invite(v: &Visitor, a: &Answers) -> String {
    if !a.multi {
        return String::new();
    }
    format!(
        "<section aria-labelledby=\"invite-heading\">\n\
         <h2 id=\"invite-heading\">Invite someone</h2>\n\
         <p id=\"invite-help\">Send this link to the people filling in this interview with \
         you.</p>\n\
         <p><label for=\"invite-link\">Invite link</label>\n\
         <input type=\"text\" id=\"invite-link\" value=\"{link}\" readonly \
         aria-describedby=\"invite-help\"></p>\n</section>\n",
        link = escape(&invite_path(&v.sid)),
    )
}

fn step_header(step: u8) -> String {
    format!("<p>Step {step} of 3</p>\n")
}

pub fn step_name(v: &Visitor, a: &Answers, name: &str, multi: bool, error: Option<&str>) -> String {
    let (err, attrs) = field_error("name", error);
    let checked = if multi { " checked" } else { "" };
    let body = format!(
        "{notice}{header}<h1>What is your name?</h1>\n\
         <form method=\"post\" action=\"/interview\">\n\
         <input type=\"hidden\" name=\"step\" value=\"1\">\n\
         <p><label for=\"name\">Your name</label>\n{err}\
         <input type=\"text\" id=\"name\" name=\"name\" value=\"{name}\" maxlength=\"100\" \
         autocomplete=\"name\" required{attrs}></p>\n\
         <p><input type=\"checkbox\" id=\"multi\" name=\"multi\" value=\"yes\"{checked}>\n\
         <label for=\"multi\">Several people will fill in this interview together</label></p>\n\
         <p><button type=\"submit\">Continue</button></p>\n</form>\n{invite}",
        notice = staff_notice(v),
        header = step_header(1),
        invite = invite(v, a),
        name = escape(name),
    );
    layout("What is your name? — Demo interview", &body, true)
}

pub fn step_topic(v: &Visitor, a: &Answers, error: Option<&str>) -> String {
    let (err, attrs) = field_error("topic", error);
    let mut options = String::new();
    for t in TOPICS {
        let selected = if a.topic.as_deref() == Some(t) {
            " selected"
        } else {
            ""
        };
        let _ = writeln!(
            options,
            "<option value=\"{0}\"{selected}>{0}</option>",
            escape(t)
        );
    }
    let greeting = a
        .name
        .as_deref()
        .map(|n| format!("<p>Thank you, {}.</p>\n", escape(n)))
        .unwrap_or_default();
    let body = format!(
        "{notice}{header}{greeting}<h1>What do you need help with?</h1>\n\
         <form method=\"post\" action=\"/interview\">\n\
         <input type=\"hidden\" name=\"step\" value=\"2\">\n\
         <p><label for=\"topic\">Topic</label>\n{err}\
         <select id=\"topic\" name=\"topic\"{attrs}>\n{options}</select></p>\n\
         <p><button type=\"submit\">Continue</button></p>\n</form>\n\
         <p><a href=\"/interview?step=1\">Back</a></p>\n{invite}",
        notice = staff_notice(v),
        header = step_header(2),
        invite = invite(v, a),
    );
    layout("What do you need help with? — Demo interview", &body, true)
}

pub fn step_notes(v: &Visitor, a: &Answers, notes: &str, error: Option<&str>) -> String {
    let (err, attrs) = field_error("notes", error);
    let body = format!(
        "{notice}{header}<h1>Anything else we should know?</h1>\n\
         <form method=\"post\" action=\"/interview\">\n\
         <input type=\"hidden\" name=\"step\" value=\"3\">\n\
         <p><label for=\"notes\">Notes</label>\n{err}\
         <textarea id=\"notes\" name=\"notes\" rows=\"6\" maxlength=\"2000\"{attrs}>{notes}</textarea></p>\n\
         <p><button type=\"submit\">Finish</button></p>\n</form>\n\
         <p><a href=\"/interview?step=2\">Back</a></p>\n{invite}",
        notice = staff_notice(v),
        header = step_header(3),
        invite = invite(v, a),
        notes = escape(notes),
    );
    layout(
        "Anything else we should know? — Demo interview",
        &body,
        true,
    )
}

pub fn summary(v: &Visitor, a: &Answers) -> String {
    let dd = |s: Option<&str>| match s {
        Some(s) if !s.is_empty() => escape(s),
        _ => "—".to_owned(),
    };
    let body = format!(
        "{notice}<h1>Thank you</h1>\n<p>Here is what you told us.</p>\n<dl>\n\
         <dt>Your name</dt><dd>{name}</dd>\n\
         <dt>Several people fill in this interview together</dt><dd>{multi}</dd>\n\
         <dt>Help with</dt><dd>{topic}</dd>\n\
         <dt>Anything else</dt><dd>{notes}</dd>\n</dl>\n\
         {invite}<p><a href=\"/\">Back to the start</a></p>\n",
        notice = staff_notice(v),
        invite = invite(v, a),
        name = dd(a.name.as_deref()),
        multi = if a.multi { "Yes" } else { "No" },
        topic = dd(a.topic.as_deref()),
        notes = dd(a.notes.as_deref()),
    );
    layout("Thank you — Demo interview", &body, true)
}

pub fn bad_request(message: &str) -> String {
    let body = format!(
        "<h1>That did not work</h1>\n<p>{}</p>\n<p><a href=\"/\">Back to the start</a></p>\n",
        escape(message)
    );
    layout("Bad request — Demo interview", &body, false)
}

/// Why a join link was refused: the heading, and what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinRefusal {
    Invalid,
    Expired,
    Used,
}

impl JoinRefusal {
    pub fn heading(self) -> &'static str {
        match self {
            JoinRefusal::Invalid => "This join link is invalid",
            JoinRefusal::Expired => "This join link has expired",
            JoinRefusal::Used => "This join link was already used",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            JoinRefusal::Invalid => {
                "It was not issued by this site's live help, or it was changed on the way."
            }
            JoinRefusal::Expired => "Join links work for a short time only.",
            JoinRefusal::Used => "Each join link works once.",
        }
    }
}

/// The page a refused join link shows.
pub fn join_refused(why: JoinRefusal) -> String {
    let body = format!(
        "<h1>{heading}</h1>\n<p>{explanation}</p>\n\
         <p>To join the session, choose Join again in its row on the monitor: that opens a \
         new link.</p>\n<p><a href=\"/\">Back to the start</a></p>\n",
        heading = escape(why.heading()),
        explanation = escape(why.explanation()),
    );
    layout(&format!("{} — Demo interview", why.heading()), &body, false)
}

pub fn not_found() -> String {
    layout(
        "Page not found — Demo interview",
        "<h1>Page not found</h1>\n<p><a href=\"/\">Back to the start</a></p>\n",
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_special_characters() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("Zoë plain"), "Zoë plain");
    }

    #[test]
    fn interview_pages_embed_the_widget_and_others_do_not() {
        let v = Visitor::anonymous();
        let a = Answers::default();
        for page in [
            step_name(&v, &a, "", false, None),
            step_topic(&v, &a, None),
            step_notes(&v, &a, "", None),
            summary(&v, &a),
        ] {
            assert!(page.contains(WIDGET_SCRIPT) && page.contains(LIVEHELP_CSS));
        }
        assert!(!landing(None).contains("widget.js"));
        assert!(!login("", None, None, None).contains("widget.js"));
    }

    fn pages(v: &Visitor, a: &Answers) -> [String; 4] {
        [
            step_name(v, a, "", a.multi, None),
            step_topic(v, a, None),
            step_notes(v, a, "", None),
            summary(v, a),
        ]
    }

    #[test]
    fn only_multi_user_interviews_show_the_invite_link() {
        let v = Visitor::anonymous();
        let mut a = Answers::default();
        for page in pages(&v, &a) {
            assert!(!page.contains("Invite someone") && !page.contains("/interview/join/"));
        }
        a.multi = true;
        let input = format!(
            "<input type=\"text\" id=\"invite-link\" value=\"/interview/join/{}\" readonly",
            v.sid
        );
        for page in pages(&v, &a) {
            assert!(page.contains("<h2 id=\"invite-heading\">Invite someone</h2>"));
            assert!(page.contains("<label for=\"invite-link\">Invite link</label>"));
            assert!(
                page.contains("Send this link to the people filling in this interview with you.")
            );
            assert!(page.contains(&input), "{page}");
        }
    }

    #[test]
    fn the_invite_link_is_escaped() {
        let mut v = Visitor::anonymous();
        let a = Answers {
            multi: true,
            ..Answers::default()
        };
        v.sid = r#"s-"><script>'x'&"#.into();
        for page in pages(&v, &a) {
            assert!(!page.contains("<script>'x'"));
            assert!(page.contains(
                r#"value="/interview/join/s-&quot;&gt;&lt;script&gt;&#39;x&#39;&amp;" readonly"#
            ));
        }
    }

    #[test]
    fn a_joined_operator_is_told_whose_interview_it_is_and_names_are_escaped() {
        let v = Visitor::operator_joining(
            "o-1".into(),
            Some("<b>Olivia</b>".into()),
            Role::Advocate,
            "s-0123456789abcdef".into(),
        );
        for page in pages(&v, &Answers::default()) {
            assert!(
                page.contains(
                    "You joined this interview as &lt;b&gt;Olivia&lt;/b&gt; (advocate). Your \
                     answers are the user's answers"
                ),
                "{page}"
            );
            assert!(!page.contains("open it in a private window"));
        }
    }

    #[test]
    fn refused_join_links_say_why() {
        for (why, heading) in [
            (JoinRefusal::Invalid, "This join link is invalid"),
            (JoinRefusal::Expired, "This join link has expired"),
            (JoinRefusal::Used, "This join link was already used"),
        ] {
            let page = join_refused(why);
            assert!(page.contains(&format!("<h1>{heading}</h1>")), "{page}");
            assert!(page.contains(&format!("<title>{heading} — Demo interview</title>")));
            assert!(!page.contains("widget.js"));
        }
    }
}
