//! The audit stream as JSON lines appended to a file, each synced before it counts as
//! delivered: for a log shipper (Fluent Bit, Vector, the CloudWatch agent) to pick up.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::audit::stream::{EventSink, Message, SinkError};

pub struct FileSink {
    path: PathBuf,
    destination: String,
}

impl FileSink {
    pub fn new(path: PathBuf) -> Self {
        let destination = super::destination("file", &path.display().to_string());
        Self { path, destination }
    }
}

#[async_trait]
impl EventSink for FileSink {
    fn destination(&self) -> &str {
        &self.destination
    }

    fn kind(&self) -> &'static str {
        "file"
    }

    async fn deliver(&self, message: &Message<'_>) -> Result<(), SinkError> {
        crate::audit::export::append_synced_line(self.path.clone(), message.body.to_vec())
            .await
            .map_err(|e| SinkError(format!("writing the stream file failed: {e}")))
    }
}
