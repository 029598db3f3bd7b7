//! A throwaway PostgreSQL server for tests, started from the installed binaries (`initdb`,
//! `pg_ctl`) on a temporary directory and a free port.
//!
//! Without PostgreSQL the tests print a skip message, unless `ARCHKIT_REQUIRE_POSTGRES=1`,
//! where a missing PostgreSQL is a failure. PostgreSQL refuses to run as root, so as root
//! the server runs as `nobody` (through `runuser`, or `su` without it) in a directory it owns.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Postgres {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    run_as: Option<&'static str>,
    pub port: u16,
}

/// The directory holding `initdb` and `pg_ctl`: `PATH` first, then the one `dpkg -S
/// bin/initdb` names.
fn find_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let output = Command::new("dpkg")
            .args(["-S", "bin/initdb"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| {
                let path = Path::new(line.split_once(": ")?.1.trim());
                let dir = path.parent()?;
                (path.is_file() && dir.join("pg_ctl").is_file()).then(|| dir.to_owned())
            })
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) if on_path("runuser") => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            // su passes the arguments after the command string on to the shell.
            Some(user) => {
                let mut command = Command::new("su");
                command
                    .args(["-s", "/bin/sh", "-c", "exec \"$0\" \"$@\"", "--", user])
                    .arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    /// Starts a new server, or `None` (with a skip message) when PostgreSQL is not installed
    /// and not required.
    pub fn start() -> Option<Self> {
        let required = std::env::var("ARCHKIT_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let Some(bin) = find_bin() else {
            assert!(
                !required,
                "ARCHKIT_REQUIRE_POSTGRES=1 but no initdb/pg_ctl on PATH or from dpkg"
            );
            eprintln!("skipped: PostgreSQL (initdb, pg_ctl) not found; set ARCHKIT_REQUIRE_POSTGRES=1 to fail instead");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("refdata-pg-")
            .tempdir_in(std::env::temp_dir())
            .expect("temporary directory");
        let run_as = is_root().then_some("nobody");
        if let Some(user) = run_as {
            let status = Command::new("chown")
                .arg(user)
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown {user} {}", dir.path().display());
        }
        let mut server = Postgres {
            data: dir.path().join("data"),
            _dir: dir,
            bin,
            run_as,
            port: 0,
        };
        let output = server
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&server.data)
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for _ in 0..3 {
            server.port = free_port();
            if server.pg_ctl_start() {
                return Some(server);
            }
        }
        panic!("PostgreSQL did not start: {}", server.log());
    }

    fn pg_ctl_start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200",
            self.port,
            self.data.display()
        );
        self.command("pg_ctl")
            .args(["-w", "-t", "30", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "start"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Stops the server (fast shutdown: connections are closed).
    pub fn stop(&self) {
        let output = self
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&self.data)
            .args(["-m", "fast", "stop"])
            .output()
            .expect("pg_ctl runs");
        assert!(output.status.success(), "pg_ctl stop: {output:?}");
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        assert!(
            self.pg_ctl_start(),
            "PostgreSQL did not restart: {}",
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
    }

    /// A URL of a new, empty database on this server.
    pub async fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("refdata_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("connect to the test server");
        sqlx::Executor::execute(&mut connection, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a database");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
