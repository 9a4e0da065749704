//! How the store reaches a PostgreSQL server: the URL's `sslmode` as libpq names it, with TLS
//! through rustls whenever it is not `disable`.
//!
//! - No `sslmode` in the URL: no TLS to a server on this machine (a socket, `localhost`, a
//!   loopback address: Debian's clusters offer TLS with a self-signed certificate nothing can
//!   verify), and `require` to any other host.
//! - `sslmode=disable`: no TLS (a server on the same machine or a trusted network only).
//! - `require`: TLS, the server's certificate always verified against the authorities in the
//!   PEM file `PGSSLROOTCERT` names (a hospital's own authority) or, without it, the public
//!   ones (webpki-roots). Stricter than libpq, whose `require` does not verify: a study's
//!   evidence never crosses a network to a server that cannot prove who it is.
//! - `prefer`, written out: TLS as `require` when the server offers it, and plain text when it
//!   does not, as libpq does; someone between the two can make it plain, so prefer `require`.
//! - The password may come from `PGPASSWORD` when the URL has none (libpq's variable), else
//!   from the password file (`PGPASSFILE` or `~/.pgpass`, see [`crate::pgpass`]); it is then
//!   never written into `database.url`.

use std::sync::Arc;

use postgres::config::SslMode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::db::Error;

/// Opens a client for `url`, with TLS as its `sslmode` says.
pub(crate) fn connect(url: &str) -> Result<postgres::Client, Error> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_password().is_none()
        && let Some(password) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty())
    {
        config.password(password.as_encoded_bytes());
    }
    // A password file that cannot be used matters only if the server asks for a password.
    let mut unusable_password_file = None;
    if config.get_password().is_none()
        && let Some(file) = crate::pgpass::file()
    {
        let user = config.get_user().unwrap_or_default().to_owned();
        let socket;
        let wanted = crate::pgpass::Wanted {
            host: match config.get_hosts().first() {
                Some(postgres::config::Host::Tcp(name)) => name,
                #[cfg(unix)]
                Some(postgres::config::Host::Unix(path)) => {
                    socket = path.display().to_string();
                    match socket.as_str() {
                        "/var/run/postgresql" | "/run/postgresql" | "/tmp" => "localhost",
                        other => other,
                    }
                }
                _ => "localhost",
            },
            port: config.get_ports().first().copied().unwrap_or(5432),
            database: config.get_dbname().unwrap_or(&user),
            user: &user,
        };
        match crate::pgpass::lookup(&file, wanted) {
            Ok(Some(password)) => {
                config.password(password);
            }
            Ok(None) => {}
            Err(problem) => unusable_password_file = Some(problem),
        }
    }
    let password_file_said = |e: Error| match &unusable_password_file {
        Some(problem) if e.to_string().contains("password") => refused(problem.clone()),
        _ => e,
    };
    if !url.contains("sslmode=") {
        let on_this_machine = config.get_hosts().iter().all(|host| match host {
            postgres::config::Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            _ => true,
        });
        config.ssl_mode(if on_this_machine {
            SslMode::Disable
        } else {
            SslMode::Require
        });
    }
    if config.get_ssl_mode() == SslMode::Disable {
        return config
            .connect(postgres::NoTls)
            .map_err(|e| password_file_said(e.into()));
    }
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config()?);
    config.connect(tls).map_err(|e| {
        let text = format!("{e} {}", std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default());
        if text.contains("certificate") || text.contains("TLS") || text.contains("tls") {
            refused(format!(
                "TLS to the PostgreSQL server failed: {}; its certificate must be signed by an authority in the PEM file PGSSLROOTCERT names (or a public one), and name the host of the URL; sslmode=disable in the URL turns TLS off on a trusted network",
                text.trim()
            ))
        } else {
            password_file_said(Error::Postgres(e))
        }
    })
}

fn client_config() -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    match std::env::var_os("PGSSLROOTCERT").filter(|p| !p.is_empty()) {
        Some(path) => {
            let shown = std::path::Path::new(&path).display().to_string();
            let certificates = CertificateDer::pem_file_iter(&path)
                .map_err(|e| refused(format!("PGSSLROOTCERT {shown}: {e}")))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| refused(format!("PGSSLROOTCERT {shown}: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(refused(format!(
                    "PGSSLROOTCERT {shown}: no certificate in it (a PEM file of the certificate authority is expected)"
                )));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| refused(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn refused(message: String) -> Error {
    Error::Refused(message.into())
}
