// cargo run -- CORPUS.json > FIXTURE.json: Version::parse, Ord, VersionReq::parse and matches.
use semver::{Version, VersionReq};
use serde_json::{json, Value};
use std::cmp::Ordering;

fn main() {
    let path = std::env::args().nth(1).expect("corpus path");
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let versions: Vec<String> =
        corpus["versions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let parsed: Vec<Option<Version>> = versions.iter().map(|v| Version::parse(v).ok()).collect();
    let sign = |o: Ordering| match o { Ordering::Less => '-', Ordering::Greater => '+', Ordering::Equal => '0' };
    let order: Vec<String> = parsed.iter().map(|a| parsed.iter().map(|b| match (a, b) {
        (Some(a), Some(b)) => sign(a.cmp(b)),
        _ => '?',
    }).collect()).collect();
    let ranges: Vec<Value> = corpus["ranges"].as_array().unwrap().iter().map(|r| {
        let r = r.as_str().unwrap();
        match VersionReq::parse(r) {
            Ok(req) => {
                let m: String = parsed.iter().map(|p| match p { Some(v) if req.matches(v) => '1', _ => '0' }).collect();
                json!({"range": r, "valid": true, "error": null, "matches": m, "matches_pre": m})
            }
            Err(e) => {
                let m: String = parsed.iter().map(|_| '0').collect();
                json!({"range": r, "valid": false, "error": e.to_string(), "matches": m, "matches_pre": m})
            }
        }
    }).collect();
    let out = json!({
        "format": "cargo",
        "reference": "semver crate 1.0.27",
        "versions": versions,
        "valid": parsed.iter().map(|p| if p.is_some() { '1' } else { '0' }).collect::<String>(),
        "prerelease": parsed.iter().map(|p| match p { Some(v) if !v.pre.is_empty() => '1', Some(_) => '0', None => '-' }).collect::<String>(),
        "order": order,
        "ranges": ranges,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
