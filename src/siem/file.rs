//! The audit stream as JSON lines appended to a file, each synced before it counts as
//! delivered: for a log shipper (Fluent Bit, Vector, the CloudWatch agent) to pick up.

use std::io::Write;
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
        let path = self.path.clone();
        let mut line = message.body.to_vec();
        line.push(b'\n');
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            file.write_all(&line)?;
            file.sync_data()
        })
        .await
        .map_err(|e| SinkError(format!("writing the stream file failed: {e}")))?
        .map_err(|e| SinkError(format!("writing the stream file failed: {e}")))
    }
}
