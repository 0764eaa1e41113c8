//! Build script shared by the crates with a PostgreSQL test suite: with
//! `ASSENT_TEST_POSTGRES_URL` set, their tests compile with
//! `cfg(postgres_suite)` and run against that server; without it they
//! compile a single test that says the suite was skipped and how to run it.

fn main() {
    println!("cargo::rerun-if-env-changed=ASSENT_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_suite)");
    if std::env::var_os("ASSENT_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=postgres_suite");
    }
}
