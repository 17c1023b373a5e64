//! The real binary, spawned as a process (for kills and start-up checks).

use super::*;

impl TestApp {
    /// The real binary, with this app's pool and settings but a database of its own (so that
    /// only its own job loops run its jobs, and its metrics are its own); and that database.
    pub async fn start_binary(&self) -> (RunningBinary, PgPool) {
        let db_url = create_database(&self.env.admin_db_url).await;
        let binary = self.start_binary_on(&db_url).await;
        let db = PgPool::connect(&db_url)
            .await
            .expect("the binary's database");
        (binary, db)
    }

    /// The real binary, with this app's settings, on the database at `db_url` (to restart one).
    /// Started off the test's runtime, which meanwhile keeps serving the fault proxy the binary
    /// reaches AWS through (waiting for it on the runtime's one thread would stall its calls).
    pub async fn start_binary_on(&self, db_url: &str) -> RunningBinary {
        self.start_binary_logging(db_url, "info,mfa_recovery=trace")
            .await
    }

    /// As `start_binary_on`, with `extra` settings besides this app's.
    pub async fn start_binary_with(
        &self,
        db_url: &str,
        extra: &[(String, String)],
    ) -> RunningBinary {
        let mut vars = self.settings_env.clone();
        vars.extend(extra.iter().cloned());
        vars.insert("DATABASE_URL".into(), db_url.to_owned());
        tokio::task::spawn_blocking(move || RunningBinary::start(&vars))
            .await
            .expect("the binary starts")
    }

    /// Settings that give a binary a staff console of its own: a listener at a free port and
    /// a client registered for it at the test provider.
    pub async fn staff_console_settings(&self) -> Vec<(String, String)> {
        super::staff_console::settings(&self.env.oidc_issuer, true).await
    }

    /// As `start_binary_on`, logging at `rust_log` (such as `debug`: every crate's debug events,
    /// which carry the fields of the service's spans they happen in).
    pub async fn start_binary_logging(&self, db_url: &str, rust_log: &str) -> RunningBinary {
        let mut vars = self.settings_env.clone();
        vars.insert("DATABASE_URL".into(), db_url.to_owned());
        vars.insert("RUST_LOG".into(), rust_log.to_owned());
        tokio::task::spawn_blocking(move || RunningBinary::start(&vars))
            .await
            .expect("the binary starts")
    }
}

/// The real binary, logging JSON at the most verbose level of its own code.
pub struct RunningBinary {
    pub child: Child,
    output: Arc<Mutex<Vec<String>>>,
    /// The threads reading its stdout and stderr into `output`.
    readers: Vec<std::thread::JoinHandle<()>>,
    pub address: String,
    pub admin_address: String,
}

/// A binary a test did not stop (or a test that failed half-way) is killed with it, so that no
/// service outlives its test.
impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningBinary {
    pub fn start(vars: &std::collections::HashMap<String, String>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mfa-recovery"))
            .arg("serve")
            .env("RUST_LOG", "info,mfa_recovery=trace")
            .envs(vars)
            .env("LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            let port_tx = port_tx.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                        if event["message"] == "listening" {
                            let _ = port_tx.send((
                                event["port"].as_u64().unwrap(),
                                event["admin_port"].as_u64().unwrap(),
                            ));
                        }
                    }
                    output.lock().unwrap().push(line);
                }
            }));
        }
        let (port, admin_port) = port_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "the binary did not log its port: {:?}",
                    output.lock().unwrap()
                )
            });
        Self {
            child,
            output,
            readers,
            address: format!("http://127.0.0.1:{port}"),
            admin_address: format!("http://127.0.0.1:{admin_port}"),
        }
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its output ends with it: every line is read once the readers are done.
        for reader in std::mem::take(&mut self.readers) {
            let _ = reader.join();
        }
        let lines = self.output.lock().unwrap().join("\n");
        lines
    }
    /// Sends SIGTERM and waits (up to `limit`) for the process to exit; its exit status.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        within_blocking(limit, || self.child.try_wait().unwrap())
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Waits (up to 20 s) until a line of output contains `needle`.
    pub async fn wait_for_output(&self, needle: &str) {
        let what = format!("a line of the binary's output contains {needle}");
        let output = &self.output;
        eventually(&what, Duration::from_secs(20), || async move {
            output
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(needle))
                .then_some(())
        })
        .await;
    }
}
