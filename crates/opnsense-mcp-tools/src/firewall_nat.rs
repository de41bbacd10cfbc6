//! Tools of this area (to be written).

use rmcp::tool_router;

use crate::OpnsenseTools;

#[tool_router(router = firewall_nat_router, allow_empty, vis = "pub(crate)")]
impl OpnsenseTools {}
