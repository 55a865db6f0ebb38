//! Both ends prove they hold the authkey without sending it: each sends a fresh random
//! nonce, and each answers with HMAC-SHA256(key, who || master's nonce || worker's nonce).
//! The worker proves itself first; the master answers with its own proof, and a worker that
//! does not get a valid one sends nothing more. A peer without the key sees only MACs over
//! nonces it cannot choose twice, so there is nothing to replay and no key to harvest.

use super::frame::{self, BEFORE_AUTH, Deadline, FrameError};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// The variable a worker or master reads its key from when no file is named.
pub const KEY_VAR: &str = "CONLAB_AUTHKEY";

/// How long a peer has to finish the handshake, whatever it sends meanwhile.
pub const DEADLINE: Duration = Duration::from_secs(2);

const NONCE_BYTES: usize = 32;
/// What each side's MAC says it is, so one side's proof can never be replayed as the other's.
const WORKER_PROOF: &[u8] = b"conlab worker proof v1";
const MASTER_PROOF: &[u8] = b"conlab master proof v1";

/// A shared secret, never empty. Its bytes are never printed (Debug hides them).
#[derive(Clone)]
pub struct AuthKey(Vec<u8>);

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthKey({} bytes)", self.0.len())
    }
}

impl AuthKey {
    /// The key, or why it cannot be one: an empty key would let anyone in.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<AuthKey, String> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err("the authkey is empty; an empty key would let anyone connect: give one with at least one byte".into());
        }
        Ok(AuthKey(bytes))
    }

    /// From `file` (one line; its line ending is not part of the key), else from
    /// `CONLAB_AUTHKEY`. Never from the command line, where `ps` shows it to everyone.
    pub fn load(file: Option<&Path>) -> Result<AuthKey, String> {
        let bytes = match file {
            Some(path) => std::fs::read(path)
                .map_err(|e| format!("cannot read the authkey file {}: {e}", path.display()))?,
            None => std::env::var_os(KEY_VAR)
                .map(|v| v.into_encoded_bytes())
                .ok_or_else(|| format!("no authkey: give --authkey-file FILE or set {KEY_VAR}"))?,
        };
        let trimmed = bytes
            .strip_suffix(b"\n")
            .map(|b| b.strip_suffix(b"\r").unwrap_or(b))
            .unwrap_or(&bytes);
        AuthKey::new(trimmed)
    }

    /// The key itself, for handing it to a worker process through a pipe.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self, who: &[u8], master_nonce: &[u8], worker_nonce: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(who);
        mac.update(master_nonce);
        mac.update(worker_nonce);
        mac
    }
}

#[derive(Serialize, Deserialize)]
struct Challenge {
    nonce: String,
}

#[derive(Serialize, Deserialize)]
struct Proof {
    nonce: String,
    mac: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Accepted { mac: String },
    Refused { reason: String },
}

/// Why the master turned a connection away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    WrongKey,
    TimedOut,
    /// A frame over the pre-authentication limit.
    Oversize,
    /// Bytes that are not a handshake message, or a connection that ended inside one.
    Garbage,
}

impl Refusal {
    pub fn word(self) -> &'static str {
        match self {
            Refusal::WrongKey => "wrong key",
            Refusal::TimedOut => "timed out",
            Refusal::Oversize => "oversize frame",
            Refusal::Garbage => "garbage",
        }
    }
}

fn nonce() -> [u8; NONCE_BYTES] {
    let mut n = [0u8; NONCE_BYTES];
    getrandom::fill(&mut n).expect("the OS gives random bytes");
    n
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn send(stream: &TcpStream, message: &impl Serialize) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(message).expect("handshake messages serialize");
    frame::write_frame(&mut &*stream, &bytes)
}

fn refusal_of(e: &FrameError) -> Refusal {
    match e {
        _ if e.timed_out() => Refusal::TimedOut,
        FrameError::Oversize { .. } => Refusal::Oversize,
        _ => Refusal::Garbage,
    }
}

/// The master's side: challenge, check the worker's proof, prove itself. Everything read is
/// under `within` and [`BEFORE_AUTH`]; the caller closes the connection on a refusal.
pub fn serve(stream: &TcpStream, key: &AuthKey, within: Duration) -> Result<(), Refusal> {
    let mut reader = Deadline::new(stream, within);
    let ours = nonce();
    send(stream, &Challenge { nonce: hex(&ours) }).map_err(|_| Refusal::Garbage)?;
    let bytes = frame::read_frame(&mut reader, BEFORE_AUTH).map_err(|e| refusal_of(&e))?;
    let proof: Proof = serde_json::from_slice(&bytes).map_err(|_| Refusal::Garbage)?;
    let (Some(theirs), Some(mac)) = (unhex(&proof.nonce), unhex(&proof.mac)) else {
        return Err(Refusal::Garbage);
    };
    if theirs.len() != NONCE_BYTES {
        return Err(Refusal::Garbage);
    }
    // Constant time: how far a guess matched must not show in how long the answer takes.
    if key
        .mac(WORKER_PROOF, &ours, &theirs)
        .verify_slice(&mac)
        .is_err()
    {
        let _ = send(
            stream,
            &Verdict::Refused {
                reason: Refusal::WrongKey.word().into(),
            },
        );
        return Err(Refusal::WrongKey);
    }
    let mine = key
        .mac(MASTER_PROOF, &ours, &theirs)
        .finalize()
        .into_bytes();
    send(stream, &Verdict::Accepted { mac: hex(&mine) }).map_err(|_| Refusal::Garbage)?;
    Ok(())
}

/// The worker's side: answer the challenge, then check the master's proof. An error says
/// which side failed, for the worker to print.
pub fn join(stream: &TcpStream, key: &AuthKey, within: Duration) -> Result<(), String> {
    let mut reader = Deadline::new(stream, within);
    let read = |reader: &mut Deadline| {
        frame::read_frame(reader, BEFORE_AUTH)
            .map_err(|e| format!("the handshake with the master failed: {e}"))
    };
    let challenge: Challenge = serde_json::from_slice(&read(&mut reader)?)
        .map_err(|_| "the master's challenge is not one: is it a conlab master?".to_string())?;
    let theirs = unhex(&challenge.nonce)
        .filter(|n| n.len() == NONCE_BYTES)
        .ok_or("the master's challenge is not a 32-byte nonce")?;
    let ours = nonce();
    let mac = key
        .mac(WORKER_PROOF, &theirs, &ours)
        .finalize()
        .into_bytes();
    send(
        stream,
        &Proof {
            nonce: hex(&ours),
            mac: hex(&mac),
        },
    )
    .map_err(|e| format!("sending our proof failed: {e}"))?;
    match serde_json::from_slice(&read(&mut reader)?) {
        Ok(Verdict::Accepted { mac }) => {
            let valid = unhex(&mac).is_some_and(|mac| {
                key.mac(MASTER_PROOF, &theirs, &ours)
                    .verify_slice(&mac)
                    .is_ok()
            });
            if valid {
                Ok(())
            } else {
                Err("the master did not prove it holds the key: it is not ours, so nothing more is sent to it".into())
            }
        }
        Ok(Verdict::Refused { reason }) => Err(format!(
            "the master refused this worker: {}",
            crate::text_safe::printable(&reason)
        )),
        Err(_) => Err("the master's answer is not a verdict".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair(master_key: &[u8], worker_key: &[u8]) -> (Result<(), Refusal>, Result<(), String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let worker_key = AuthKey::new(worker_key).unwrap();
        let worker = std::thread::spawn(move || {
            let stream = TcpStream::connect(addr).unwrap();
            join(&stream, &worker_key, DEADLINE)
        });
        let (stream, _) = listener.accept().unwrap();
        let master = serve(&stream, &AuthKey::new(master_key).unwrap(), DEADLINE);
        drop(stream);
        (master, worker.join().unwrap())
    }

    #[test]
    fn the_same_key_is_accepted_by_both() {
        let (m, w) = pair(b"abc", b"abc");
        assert_eq!(m, Ok(()));
        assert_eq!(w, Ok(()));
    }

    #[test]
    fn a_wrong_key_is_refused_and_the_worker_is_told() {
        let (m, w) = pair(b"abc", b"abd");
        assert_eq!(m, Err(Refusal::WrongKey));
        assert!(w.unwrap_err().contains("refused this worker: wrong key"));
    }

    #[test]
    fn an_empty_key_is_no_key() {
        let e = AuthKey::new(Vec::new()).unwrap_err();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn a_key_file_loses_its_line_ending_and_the_debug_form_hides_the_key() {
        let dir = std::env::temp_dir().join(format!("conlab-key-{}", std::process::id()));
        std::fs::write(&dir, b"abc\n").unwrap();
        let key = AuthKey::load(Some(&dir)).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(key.0, b"abc");
        assert_eq!(format!("{key:?}"), "AuthKey(3 bytes)");
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])).unwrap(), [0, 1, 254, 255]);
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
        assert!(unhex("é0").is_none());
    }
}
