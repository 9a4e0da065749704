//! A throwaway PostgreSQL server for tests and benchmarks: a new cluster in a temporary folder
//! (`initdb`), started on a free loopback port (`pg_ctl`), stopped and deleted when dropped.
//! Never a system service. The binaries come from `KIZON_PG_BIN`, else Debian's
//! `/usr/lib/postgresql/<version>/bin` (the newest), else the `PATH`. PostgreSQL refuses to run
//! as root, so as root the cluster belongs to, and runs as, the `postgres` user that Debian's
//! package creates (through `runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running throwaway server.
pub struct ThrowawayPostgres {
    folder: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    databases: std::sync::atomic::AtomicU32,
}

/// The database user of a throwaway cluster.
pub const USER: &str = "kizon";

impl ThrowawayPostgres {
    /// Makes and starts a cluster; the error says what is missing or what failed.
    pub fn start() -> Result<ThrowawayPostgres, String> {
        ThrowawayPostgres::launch(false)
    }

    /// A cluster that takes connections over TLS only (`hostnossl … reject`), with a
    /// certificate for 127.0.0.1 signed by a certificate authority of its own, made with the
    /// `openssl` tool: [`ThrowawayPostgres::ca_file`] names that authority's certificate.
    pub fn start_with_tls() -> Result<ThrowawayPostgres, String> {
        ThrowawayPostgres::launch(true)
    }

    /// The PEM file of the certificate authority that signed a TLS cluster's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.folder.join("ca.crt")
    }

    fn launch(tls: bool) -> Result<ThrowawayPostgres, String> {
        let bin = binaries().ok_or(
            "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install Debian's `postgresql` or set KIZON_PG_BIN",
        )?;
        let as_postgres = is_root();
        let folder = std::env::temp_dir().join(format!(
            "kizon-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let data = folder.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        if as_postgres {
            // The folder must be reachable, and the cluster owned, by the server's user.
            run(Command::new("chmod").arg("755").arg(&folder))?;
            run(Command::new("chown").arg("postgres").arg(&data))?;
        }
        let server = ThrowawayPostgres {
            folder,
            bin,
            port: free_port()?,
            as_postgres,
            databases: std::sync::atomic::AtomicU32::new(0),
        };
        run(server.tool("initdb").arg("-D").arg(&data).args([
            "-U",
            USER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            server.port,
            data.display()
        );
        if tls {
            server.make_certificates(&data)?;
            // Over TCP, TLS or nothing; the socket (for `new_database`) stays open.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            )
            .map_err(|e| format!("pg_hba.conf: {e}"))?;
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        run(server
            .tool("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-w", "-l"])
            .arg(data.join("server.log"))
            .arg("start"))?;
        Ok(server)
    }

    /// A new, empty database on the server: its URL.
    pub fn new_database(&self) -> Result<String, String> {
        let n = self
            .databases
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("study{n}");
        // Through the cluster's socket, which every cluster lets its user in by.
        let mut client = postgres::Config::new()
            .host_path(self.folder.join("data"))
            .port(self.port)
            .user(USER)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .map_err(|e| format!("connecting to the throwaway server: {e}"))?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        Ok(self.url(&name))
    }

    /// Adds the role `role` (a superuser) with `password`, which it must give over TCP (SCRAM),
    /// while the cluster's own user still comes in without one. Returns the URL of database
    /// `database` as the role, with no password in it.
    pub fn add_role_with_password(
        &self,
        role: &str,
        password: &str,
        database: &str,
    ) -> Result<String, String> {
        let data = self.folder.join("data");
        let mut client = postgres::Config::new()
            .host_path(&data)
            .port(self.port)
            .user(USER)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .map_err(|e| format!("connecting to the throwaway server: {e}"))?;
        client
            .batch_execute(&format!(
                "SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{password}'"
            ))
            .map_err(|e| format!("CREATE ROLE {role}: {e}"))?;
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).map_err(|e| format!("{}: {e}", hba.display()))?;
        // pg_hba.conf is read top down: the role's rule goes first.
        std::fs::write(
            &hba,
            format!("host all {role} 127.0.0.1/32 scram-sha-256\n{rules}"),
        )
        .map_err(|e| format!("{}: {e}", hba.display()))?;
        client
            .batch_execute("SELECT pg_reload_conf()")
            .map_err(|e| format!("reloading pg_hba.conf: {e}"))?;
        Ok(format!(
            "postgres://{role}@127.0.0.1:{}/{database}",
            self.port
        ))
    }

    /// The URL of database `name` on the server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// A certificate authority (`ca.crt` in the folder) and, signed by it, the server's
    /// certificate for 127.0.0.1 and key in the data folder, owned by the server's user.
    fn make_certificates(&self, data: &Path) -> Result<(), String> {
        let folder = &self.folder;
        let openssl = |args: &[&str]| {
            run(Command::new("openssl").current_dir(folder).args(args)).map_err(|e| {
                format!("making the throwaway server's certificate (is `openssl` installed?): {e}")
            })
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=kizon throwaway CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ])?;
        std::fs::write(
            folder.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .map_err(|e| format!("san.ext: {e}"))?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ])?;
        for name in ["server.crt", "server.key"] {
            std::fs::rename(folder.join(name), data.join(name))
                .map_err(|e| format!("{name}: {e}"))?;
        }
        run(Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key")))?;
        if self.as_postgres {
            run(Command::new("chown")
                .arg("postgres")
                .arg(data.join("server.crt"))
                .arg(data.join("server.key")))?;
        }
        Ok(())
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.folder.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        ))
    }
}

fn binaries() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("KIZON_PG_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .find(|dir| has_tools(dir))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("finding a free port: {e}"))
}
