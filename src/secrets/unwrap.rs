//! An age X25519 identity that knows its own public key.
//!
//! Every SOPS file holds its data key wrapped for each recipient, and opening one takes an
//! X25519 exchange with our secret key: one Montgomery ladder per stanza tried, which no cache
//! can avoid. age's own `x25519::Identity` also derives the public key from the secret for
//! every stanza (a base-point multiplication and an inversion), about 4% of a render that
//! opens 3,000 files. This identity computes it once, when the key is read.
//!
//! The stanza rules are age's (<https://c2sp.org/age#x25519-recipient-stanza>), step by step
//! as `age::x25519::Identity` applies them: tag `X25519`; one argument, the ephemeral share,
//! canonical unpadded base64 of 32 bytes; a 32-byte body; a shared secret that is not all
//! zeros; the wrapping key `HKDF-SHA-256(salt = share || our public key, info =
//! "age-encryption.org/v1/X25519")`; the file key, 16 bytes sealed with ChaCha20-Poly1305 under
//! a zero nonce. A stanza for another key fails to open and is skipped (`None`), as in age.

use age::secrecy::ExposeSecret as _;
use age_core::format::{FileKey, Stanza};
use age_core::primitives::{aead_decrypt, hkdf};
use base64::Engine as _;
use bech32::FromBase32 as _;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize as _;

const TAG: &str = "X25519";
const KEY_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const FILE_KEY_BYTES: usize = 16;

/// Our secret key and its public key.
pub(crate) struct Unwrapper {
    secret: StaticSecret,
    public: PublicKey,
}

impl Unwrapper {
    /// The same key as `identity`, with its public half computed now. `None` only if age's
    /// own encoding of the key does not decode, which a parsed identity cannot produce.
    pub(crate) fn new(identity: &age::x25519::Identity) -> Option<Unwrapper> {
        let encoded = identity.to_string();
        let (_, data, _) = bech32::decode(encoded.expose_secret()).ok()?;
        let mut bytes = Vec::<u8>::from_base32(&data).ok()?;
        let key: Option<[u8; 32]> = bytes.as_slice().try_into().ok();
        bytes.zeroize();
        let secret = StaticSecret::from(key?);
        let public = PublicKey::from(&secret);
        Some(Unwrapper { secret, public })
    }

    /// The public key, as age writes recipients (`age1...`); `None` only if bech32 refused
    /// the fixed prefix `age`, which it does not.
    pub(crate) fn recipient(&self) -> Option<String> {
        use bech32::ToBase32 as _;
        bech32::encode(
            "age",
            self.public.as_bytes().to_base32(),
            bech32::Variant::Bech32,
        )
        .ok()
    }
}

/// The ephemeral share: canonical unpadded base64 of exactly 32 bytes.
fn ephemeral_share(arg: &str) -> Option<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(arg)
        .ok()?;
    bytes.try_into().ok()
}

impl age::Identity for Unwrapper {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        let invalid = || Some(Err(age::DecryptError::InvalidHeader));
        let [arg] = stanza.args.as_slice() else {
            return invalid();
        };
        let Some(share) = ephemeral_share(arg) else {
            return invalid();
        };
        if stanza.body.len() != FILE_KEY_BYTES + 16 {
            return invalid();
        }
        let share = PublicKey::from(share);
        let shared = self.secret.diffie_hellman(&share);
        if !shared.was_contributory() {
            return invalid();
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(share.as_bytes());
        salt[32..].copy_from_slice(self.public.as_bytes());
        let mut key = hkdf(&salt, KEY_LABEL, shared.as_bytes());
        let opened = aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body);
        key.zeroize();
        // Not ours (or tampered with): another identity may open it.
        let mut plain = opened.ok()?;
        Some(Ok(FileKey::init_with_mut(|file_key| {
            file_key.copy_from_slice(&plain);
            plain.zeroize();
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    fn encrypt(data: &[u8], to: &[&age::x25519::Identity]) -> Vec<u8> {
        let recipients: Vec<age::x25519::Recipient> = to.iter().map(|i| i.to_public()).collect();
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .expect("recipients");
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).expect("wrap");
        writer.write_all(data).expect("write");
        writer.finish().expect("finish");
        out
    }

    fn decrypt(file: &[u8], identity: &dyn age::Identity) -> Option<Vec<u8>> {
        let decryptor = age::Decryptor::new_buffered(file).ok()?;
        let mut reader = decryptor.decrypt(std::iter::once(identity)).ok()?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).ok()?;
        Some(out)
    }

    /// Opens exactly what age's own identity opens: files for the key, wherever its stanza
    /// sits among others; nothing for another key.
    #[test]
    fn opens_what_age_opens() {
        let ours = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let unwrapper = Unwrapper::new(&ours).expect("key");
        assert_eq!(unwrapper.recipient(), Some(ours.to_public().to_string()));
        // `Keys` lists this as the key's recipient: age's own, for any key.
        for _ in 0..64 {
            let key = age::x25519::Identity::generate();
            let derived = Unwrapper::new(&key).and_then(|u| u.recipient());
            assert_eq!(derived, Some(key.to_public().to_string()));
        }
        let data = b"0123456789abcdef0123456789abcdef";
        for to in [vec![&ours], vec![&other, &ours], vec![&ours, &other]] {
            let file = encrypt(data, &to);
            assert_eq!(decrypt(&file, &unwrapper).as_deref(), Some(&data[..]));
            assert_eq!(decrypt(&file, &ours).as_deref(), Some(&data[..]));
        }
        let theirs = encrypt(data, &[&other]);
        assert_eq!(decrypt(&theirs, &unwrapper), None);
        assert_eq!(decrypt(&theirs, &ours), None);
    }

    /// Malformed stanzas are refused as age refuses them; another tag is not ours to judge.
    #[test]
    fn refuses_malformed_stanzas() {
        let unwrapper = Unwrapper::new(&age::x25519::Identity::generate()).expect("key");
        let share = base64::engine::general_purpose::STANDARD_NO_PAD.encode([9u8; 32]);
        let stanza = |tag: &str, args: Vec<String>, body: Vec<u8>| Stanza {
            tag: tag.to_owned(),
            args,
            body,
        };
        let header = |s: &Stanza| {
            matches!(
                age::Identity::unwrap_stanza(&unwrapper, s),
                Some(Err(age::DecryptError::InvalidHeader))
            )
        };
        assert!(
            age::Identity::unwrap_stanza(&unwrapper, &stanza("scrypt", vec![], vec![0; 32]))
                .is_none()
        );
        assert!(header(&stanza(TAG, vec![], vec![0; 32])));
        assert!(header(&stanza(
            TAG,
            vec![share.clone(), share.clone()],
            vec![0; 32]
        )));
        assert!(header(&stanza(TAG, vec![format!("{share}=")], vec![0; 32])));
        assert!(header(&stanza(
            TAG,
            vec![share[..42].to_owned()],
            vec![0; 32]
        )));
        assert!(header(&stanza(TAG, vec![share.clone()], vec![0; 31])));
        // The all-zero share gives an all-zero secret: refused, not tried.
        let zero = base64::engine::general_purpose::STANDARD_NO_PAD.encode([0u8; 32]);
        assert!(header(&stanza(TAG, vec![zero], vec![0; 32])));
        // A well-formed stanza for another key: not ours, no error.
        assert!(
            age::Identity::unwrap_stanza(&unwrapper, &stanza(TAG, vec![share], vec![0; 32]))
                .is_none()
        );
    }
}
