//! Tool failures as MCP results with `isError: true`: a message an AI can act on, never a
//! protocol error, never a panic.

use opnsense_api::Error as ApiError;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};

/// A failed tool call. Its text says what went wrong and what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    message: String,
    /// What the call found, in the tool's own output shape, when there is more than words
    /// (sent as `structuredContent` and as a second text block).
    details: Option<serde_json::Value>,
}

impl ToolError {
    /// An argument was refused before anything was sent to OPNsense.
    pub fn invalid(field: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        Self {
            message: format!("invalid argument {field}: {reason}. Nothing was sent to OPNsense."),
            details: None,
        }
    }

    /// Any other message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: None,
        }
    }

    /// A message with the call's findings in the tool's output shape (`structuredContent` of
    /// the error result, and a second text block).
    pub fn with_details(message: impl Into<String>, details: &impl serde::Serialize) -> Self {
        Self {
            message: message.into(),
            details: serde_json::to_value(details).ok(),
        }
    }

    /// The text shown to the client.
    pub fn text(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        // Worded like every other refused argument ("invalid argument uuid: ...").
        if let ApiError::InvalidInput { field, reason } = &e {
            return Self::invalid(field, reason.trim_end_matches('.'));
        }
        let hint = match &e {
            ApiError::Validation { errors, .. } if errors.is_empty() => " Nothing was changed.",
            ApiError::Validation { .. } => {
                " Nothing was changed: correct the fields named above and call the tool again."
            }
            ApiError::NotFound { .. } => {
                " Use the matching _list tool to find current uuids (they change when records are re-created)."
            }
            ApiError::ServiceFailed { .. } => {
                " Check the service's log on the firewall (System > Log Files) and its status with service_status."
            }
            ApiError::InUse { .. } => {
                " Nothing was changed: remove it from the rules or aliases named above, then delete it."
            }
            ApiError::ActionFailed { .. } => {
                " The staged changes are still pending; check the firewall's logs (System > Log Files > Backend) and retry."
            }
            ApiError::Timeout { .. } | ApiError::Deadline { .. } | ApiError::Connect { .. } => {
                " The request may or may not have reached OPNsense: list the records before retrying a change."
            }
            _ => "",
        };
        // One line: OPNsense's messages may carry newlines (the alias-in-use list does).
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let stop = if text.ends_with('.') { "" } else { "." };
        Self {
            message: format!("{text}{stop}{hint}"),
            details: None,
        }
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        let mut content = vec![ContentBlock::text(self.message)];
        content.extend(
            self.details
                .as_ref()
                .map(|d| ContentBlock::text(d.to_string())),
        );
        let mut result = CallToolResult::error(content);
        result.structured_content = self.details;
        Ok(result.into())
    }
}
