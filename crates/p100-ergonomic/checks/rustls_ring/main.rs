//! Built by check.sh as its own program with `p100-ergonomic` on `rustls-ring` alone: reqwest
//! then has no crypto provider of its own, and `ClientBuilder::build` must install ring (without
//! it, reqwest panics while building the client).
fn main() {
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "no provider before the SDK builds its client"
    );
    let client = p100_ergonomic::Client::builder()
        .api_key("k")
        .base_url("https://partner-api-stage.p100.io")
        .build();
    match client {
        Ok(_) => {}
        Err(error) => panic!("the client was not built: {error}"),
    }
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_some(),
        "ring installed as the process default"
    );
    println!("rustls-ring: client built, ring is the default provider");
}
