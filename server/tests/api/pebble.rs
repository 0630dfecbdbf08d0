//! Pebble (Let's Encrypt's test CA, Debian package `pebble`) and `pebble-challtestsrv` (its DNS),
//! started per test on free ports, for the certificate tests.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use billhook_core::custom_domains::AcmeSettings;

use crate::helpers::{free_port, wait_for_listener};

/// Pebble and its DNS server on free ports, with a TLS certificate made for this run; stopped
/// when dropped. `http_port` is where Pebble sends HTTP-01 validation requests.
pub struct Pebble {
    children: Vec<Child>,
    dir: PathBuf,
    listen_port: u16,
    dns_management_port: u16,
}

fn spawn(command: &mut Command, what: &str) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e} (scripts/setup installs the Debian package pebble)"))
}

impl Pebble {
    pub fn start(http_port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("billhook-pebble-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();

        // Pebble's own HTTPS listener: a throwaway CA and a certificate for 127.0.0.1.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Billhook test root for Pebble");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        std::fs::write(dir.join("root.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();

        let (listen_port, management_port, tls_port) = (free_port(), free_port(), free_port());
        let (dns_port, dns_management_port) = (free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen_port}"),
                "managementListenAddress": format!("127.0.0.1:{management_port}"),
                "certificate": dir.join("cert.pem"),
                "privateKey": dir.join("key.pem"),
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();

        let dns = spawn(
            Command::new("pebble-challtestsrv").args([
                "-dns01",
                &format!("127.0.0.1:{dns_port}"),
                "-management",
                &format!("127.0.0.1:{dns_management_port}"),
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
            ]),
            "pebble-challtestsrv",
        );
        let pebble = spawn(
            Command::new("pebble")
                .arg("-config")
                .arg(dir.join("pebble.json"))
                .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
                // Validate at once and never reject a nonce: the tests wait for nothing random.
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0"),
            "pebble",
        );
        let mut pebble = Self { children: vec![dns, pebble], dir, listen_port, dns_management_port };
        wait_for_listener(&mut pebble.children[0], dns_management_port, "pebble-challtestsrv");
        wait_for_listener(&mut pebble.children[1], listen_port, "pebble");
        pebble
    }

    pub fn settings(&self) -> AcmeSettings {
        AcmeSettings {
            directory_url: format!("https://127.0.0.1:{}/dir", self.listen_port),
            root_certificate: Some(self.dir.join("root.pem")),
            contact_email: Some("ops@example.com".into()),
            order_timeout: Duration::from_secs(20),
            ..AcmeSettings::default()
        }
    }

    /// Makes `host` resolve to `address` for Pebble.
    pub async fn resolve(&self, host: &str, address: &str) {
        let response = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/add-a", self.dns_management_port))
            .json(&serde_json::json!({ "host": host, "addresses": [address] }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "pebble-challtestsrv add-a: {}", response.status());
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
