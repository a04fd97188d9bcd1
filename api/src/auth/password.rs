//! Argon2id password hashing for built-in accounts.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Checks a new password: 12 to 1024 characters, not a known-weak password (see
/// `weak_passwords.txt`), and not the login name. Applies to every password set: user
/// creation, password reset, the bootstrap admin.
pub fn validate_new_password(p: &str, login_name: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(format!(
            "password must be at most {MAX_PASSWORD_LEN} characters"
        ));
    }
    let lower = p.to_lowercase();
    let login = login_name.trim().to_lowercase();
    if !login.is_empty() && (lower == login || stem(&lower) == stem(&login)) {
        return Err("password must not be the login name".into());
    }
    if is_weak(&lower) {
        return Err(
            "password is too common or too easy to guess; choose a longer passphrase".into(),
        );
    }
    Ok(())
}

fn weak_list() -> &'static std::collections::HashSet<&'static str> {
    static LIST: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("weak_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// The password without leading/trailing digits and punctuation, with common letter
/// substitutions undone (`P@ssw0rd!2024` → `password`).
fn stem(lower: &str) -> String {
    let core = lower.trim_matches(|c: char| {
        c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace()
    });
    core.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            c => c,
        })
        .collect()
}

fn is_weak(lower: &str) -> bool {
    let list = weak_list();
    if list.contains(lower) {
        return true;
    }
    let s = stem(lower);
    if s.is_empty() || list.contains(s.as_str()) {
        return true;
    }
    // Few distinct characters (`aaaaaaaaaaaa`, `abababababab`).
    let mut distinct: Vec<char> = s.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 3 {
        return true;
    }
    // One listed stem repeated (`passwordpassword`, `qwertyqwerty`).
    let chars: Vec<char> = s.chars().collect();
    (1..=chars.len() / 2).any(|k| {
        chars.len().is_multiple_of(k)
            && chars.chunks(k).all(|c| c == &chars[..k])
            && (k <= 3 || list.contains(chars[..k].iter().collect::<String>().as_str()))
    })
}

/// A PHC string (`$argon2id$...`) with a fresh random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Verifies `password` against a stored PHC string. An unparsable hash never verifies.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Burns the same time as a real verification, so a login for an unknown user cannot be told
/// apart from a wrong password by timing.
pub fn verify_dummy(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let h = DUMMY.get_or_init(|| hash("jitea-dummy-password"));
    let _ = verify(password, h);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn short_weak_and_login_passwords_are_rejected() {
        assert!(validate_new_password("short", "alice").is_err());
        assert!(validate_new_password("long enough pw", "alice").is_ok());
        for weak in [
            "password1234",
            "Password123!",
            "P@ssw0rd2024!",
            "123456789012",
            "qwertyuiop12",
            "aaaaaaaaaaaa",
            "passwordpassword",
            "!!Administrator!!",
            "abababababab",
            "Welcome12345",
        ] {
            assert!(validate_new_password(weak, "alice").is_err(), "{weak}");
        }
        assert!(validate_new_password("alice.example", "alice.example").is_err());
        assert!(validate_new_password("Alice.Example1", "alice.example").is_err());
        for ok in [
            "jitea-demo-pass",
            "root-password-123",
            "a-long-test-password",
            "correct horse battery",
        ] {
            assert!(validate_new_password(ok, "alice").is_ok(), "{ok}");
        }
    }
}
