//! Certificates made by the test that needs them: a private CA and a server
//! certificate it signs, with `openssl`. Nothing is checked in, nothing
//! outlives the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

/// A CA and one server certificate for `127.0.0.1` and `localhost`, as PEM
/// files in a folder of their own.
pub struct Certs {
    /// The CA's certificate: what a client trusts.
    pub ca: PathBuf,
    /// The server's certificate, signed by the CA.
    pub cert: PathBuf,
    /// The server's private key (PKCS#8, unencrypted).
    pub key: PathBuf,
    /// The folder holding them (removed when dropped).
    pub dir: tempfile::TempDir,
}

impl Certs {
    /// A new CA named `name` and a server certificate it signs.
    pub fn generate(name: &str) -> anyhow::Result<Certs> {
        let dir = tempfile::Builder::new()
            .prefix("wirestream-certs-")
            .tempdir_in("/tmp")?;
        let path = |file: &str| dir.path().join(file);
        let (ca, ca_key) = (path("ca.pem"), path("ca.key"));
        let (cert, key) = (path("server.pem"), path("server.key"));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-keyout",
            p(&ca_key),
            "-out",
            p(&ca),
        ])?;
        let request = path("server.csr");
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            p(&key),
            "-out",
            p(&request),
        ])?;
        let extensions = path("server.ext");
        std::fs::write(
            &extensions,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            p(&request),
            "-CA",
            p(&ca),
            "-CAkey",
            p(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            p(&extensions),
            "-out",
            p(&cert),
        ])?;
        Ok(Certs { ca, cert, key, dir })
    }

    /// The server's key and certificate in one PEM file, as a Kafka broker
    /// reads its keystore with `ssl.keystore.type=PEM` (key first).
    pub fn keystore_pem(&self) -> anyhow::Result<PathBuf> {
        let keystore = self.dir.path().join("server-keystore.pem");
        let mut pem = std::fs::read_to_string(&self.key)?;
        pem.push_str(&std::fs::read_to_string(&self.cert)?);
        std::fs::write(&keystore, pem)?;
        Ok(keystore)
    }

    /// Lets `user` (e.g. `postgres`, which refuses a key others can read)
    /// own the folder and its files, when the tests run as root.
    pub fn give_to(&self, user: &str) -> anyhow::Result<()> {
        if !crate::postgres::is_root() {
            return Ok(());
        }
        let status = Command::new("chown")
            .args(["-R", &format!("{user}:")])
            .arg(self.dir.path())
            .status()
            .context("failed to run chown")?;
        anyhow::ensure!(
            status.success(),
            "chown {user} {} failed",
            self.dir.path().display()
        );
        Ok(())
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

fn openssl(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .context("failed to run openssl (Debian's openssl package)")?;
    anyhow::ensure!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_certificate_verifies_against_its_ca_only() {
        let certs = Certs::generate("ours").unwrap();
        let other = Certs::generate("theirs").unwrap();
        let verify = |ca: &Path| {
            Command::new("openssl")
                .args(["verify", "-CAfile", p(ca), p(&certs.cert)])
                .output()
                .unwrap()
                .status
                .success()
        };
        assert!(verify(&certs.ca));
        assert!(!verify(&other.ca));
    }
}
