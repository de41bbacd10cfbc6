//! The tools' argument extractor: rmcp's `Parameters`, but a refused argument is named. rmcp
//! reads the arguments with `serde_json::from_value`, whose errors say what was wrong and not
//! where ("invalid type: string \"lan\", expected a sequence"); this one reads them with
//! `serde_path_to_error` and says which argument ("invalid argument rule.interface: ..."), so an
//! AI can correct the one field. The `#[tool]` macro finds the argument type by the name
//! `Parameters`, so the schemas are the same.

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolResponse, ContentBlock};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ToolError;

/// rmcp turns an extractor's `invalid_params` error into a tool result with `isError: true`
/// (not a JSON-RPC error) only when its message starts with this; [`tidy`] takes it off again
/// before the result is sent.
const REFUSED_PREFIX: &str = "failed to deserialize parameters: ";

/// A tool's arguments, read from the call's `arguments` object.
#[derive(Debug, Clone, Default)]
pub struct Parameters<P>(pub P);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let arguments = Value::Object(context.arguments.take().unwrap_or_default());
        serde_path_to_error::deserialize(arguments)
            .map(Parameters)
            .map_err(|e| {
                ErrorData::invalid_params(format!("{REFUSED_PREFIX}{}", refusal(&e)), None)
            })
    }
}

/// The refusal of arguments that do not fit the schema, naming the argument (`rule.interface`,
/// `networks[1]`) unless the problem is the arguments object itself.
fn refusal(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let reason = plain_types(&e.inner().to_string());
    let reason = capped(reason.trim_end_matches('.'));
    if path == "." {
        format!("invalid arguments: {reason}. Nothing was sent to OPNsense.")
    } else {
        ToolError::invalid(path, reason).text().to_owned()
    }
}

/// The longest refusal reason kept whole: serde quotes the refused value in full (a caller's
/// 100 KB string), and an unknown field's refusal lists the struct's fields (about 400
/// characters for a filter rule).
const REASON_MAX: usize = 600;

/// `reason`, cut after [`REASON_MAX`] characters.
fn capped(reason: &str) -> String {
    match reason.char_indices().nth(REASON_MAX) {
        Some((at, _)) => format!("{} (cut)", &reason[..at]),
        None => reason.to_owned(),
    }
}

/// serde names the Rust type it expected (`expected u32`); the schema says `integer`.
fn plain_types(reason: &str) -> String {
    let Some((head, expected)) = reason.rsplit_once(", expected ") else {
        return reason.to_owned();
    };
    let plain = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        _ => return reason.to_owned(),
    };
    format!("{head}, expected {plain}")
}

/// A tool call's answer with rmcp's [`REFUSED_PREFIX`] taken off a refusal's text.
pub(crate) fn tidy(response: &mut Result<CallToolResponse, ErrorData>) {
    if let Ok(CallToolResponse::Complete(result)) = response
        && result.is_error == Some(true)
        && let Some(ContentBlock::Text(t)) = result.content.first_mut()
    {
        without_prefix(&mut t.text);
    }
}

/// The text of a refused call without rmcp's [`REFUSED_PREFIX`].
fn without_prefix(text: &mut String) {
    if text.starts_with(REFUSED_PREFIX) {
        text.drain(..REFUSED_PREFIX.len());
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Rule {
        interface: Vec<String>,
        sequence: Option<u32>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        rule: Rule,
        #[serde(default)]
        networks: Vec<String>,
    }

    fn refused(v: Value) -> String {
        let e = serde_path_to_error::deserialize::<_, Args>(v).expect_err("refused");
        refusal(&e)
    }

    #[test]
    fn a_refusal_names_the_argument() {
        assert_eq!(
            refused(serde_json::json!({"rule": {"interface": "lan"}})),
            "invalid argument rule.interface: invalid type: string \"lan\", expected a sequence. Nothing was sent to OPNsense."
        );
        assert_eq!(
            refused(serde_json::json!({"rule": {"interface": ["lan"], "sequence": "5"}})),
            "invalid argument rule.sequence: invalid type: string \"5\", expected an integer. Nothing was sent to OPNsense."
        );
        assert_eq!(
            refused(serde_json::json!({"rule": {"interface": []}, "networks": ["a", 1]})),
            "invalid argument networks[1]: invalid type: integer `1`, expected a string. Nothing was sent to OPNsense."
        );
        assert!(
            refused(serde_json::json!({"rule": {"interface": [], "descr": "x"}})).starts_with(
                "invalid argument rule.descr: unknown field `descr`, expected `interface` or"
            ),
        );
        assert_eq!(
            refused(serde_json::json!({})),
            "invalid arguments: missing field `rule`. Nothing was sent to OPNsense."
        );
    }

    #[test]
    fn a_long_refused_value_is_cut() {
        let long = "x".repeat(100_000);
        let text = refused(serde_json::json!({"rule": {"interface": long}}));
        assert!(text.len() < 800, "{} characters", text.len());
        assert!(text.starts_with("invalid argument rule.interface: invalid type: string \"xxx"));
        assert!(
            text.ends_with(" (cut). Nothing was sent to OPNsense."),
            "{text}"
        );
    }

    #[test]
    fn only_rmcps_prefix_is_taken_off() {
        let mut t = format!("{REFUSED_PREFIX}invalid argument x: y.");
        without_prefix(&mut t);
        assert_eq!(t, "invalid argument x: y.");
        let mut t = "OPNsense said failed to deserialize parameters: x".to_owned();
        without_prefix(&mut t);
        assert_eq!(t, "OPNsense said failed to deserialize parameters: x");
    }
}
