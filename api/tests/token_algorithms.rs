//! Production tokens: RS256 and ES256 verified against public keys, and the classic algorithm attacks
//! refused (a token "signed" with the public key as an HMAC secret, `alg: none`, a key of another kind).

use api::auth::{Authenticator, Claims, Role};
use api::config::JwtSettings;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

const NOW: i64 = 1_795_000_000;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn claims() -> Claims {
    Claims {
        sub: "emp-1".into(),
        role: Role::Employee,
        org: Some("astana-education".into()),
        exp: NOW + 600,
        iat: Some(NOW),
        nbf: None,
        iss: None,
        aud: None,
    }
}

fn production() -> Authenticator {
    Authenticator::new(&JwtSettings {
        rs256_public_key_pem: Some(fixture("rs256-public.pem")),
        es256_public_key_pem: Some(fixture("es256-public.pem")),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn rs256_and_es256_tokens_verify_against_the_public_keys() {
    let auth = production();
    let rs = encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_pem(fixture("rs256-private.pem").as_bytes()).unwrap(),
    )
    .unwrap();
    let es = encode(
        &Header::new(Algorithm::ES256),
        &claims(),
        &EncodingKey::from_ec_pem(fixture("es256-private-pk8.pem").as_bytes()).unwrap(),
    )
    .unwrap();
    for token in [rs, es] {
        let who = auth.verify(&token, NOW).expect("a production token verifies");
        assert_eq!(
            (who.sub.as_str(), who.role, who.org.as_deref()),
            ("emp-1", Role::Employee, Some("astana-education"))
        );
        assert!(auth.verify(&token, NOW + 3600).is_err(), "expired by the server's clock");
    }
}

#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    // Algorithm confusion: HS256 "signed" with the RSA public key must not pass when only public keys
    // are configured (no HS256 secret exists to check it against).
    let public = fixture("rs256-public.pem");
    let forged =
        encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(public.as_bytes())).unwrap();
    assert!(production().verify(&forged, NOW).is_err());
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let other = Authenticator::new(&JwtSettings {
        es256_public_key_pem: Some(fixture("rs256-public.pem")),
        ..Default::default()
    });
    // An RSA key where an EC key is expected is a configuration error, reported at start.
    assert!(other.is_err());
    let rs = encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_pem(fixture("rs256-private.pem").as_bytes()).unwrap(),
    )
    .unwrap();
    let es_only = Authenticator::new(&JwtSettings {
        es256_public_key_pem: Some(fixture("es256-public.pem")),
        ..Default::default()
    })
    .unwrap();
    assert!(es_only.verify(&rs, NOW).is_err(), "RS256 is not accepted where only ES256 is configured");
}

#[test]
fn unsigned_tokens_are_refused() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).unwrap());
    assert!(production().verify(&format!("{header}.{body}."), NOW).is_err());
}
