//! `export_data`: builds one customer's data export (`crate::exports`).

use serde::{Deserialize, Serialize};

use super::{Job, JobContext, JobError};
use crate::exports::{self, ExportError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportData {
    pub export_id: String,
}

impl Job for ExportData {
    const NAME: &'static str = "export_data";
    const QUEUES: &'static [&'static str] = &["exports"];
    const MAX_ATTEMPTS: usize = 5;
    type Error = ExportError;

    async fn run(&self, ctx: &JobContext) -> Result<(), ExportError> {
        exports::build(&ctx.db, &self.export_id).await
    }
}

impl JobError for ExportError {
    fn is_permanent(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}
