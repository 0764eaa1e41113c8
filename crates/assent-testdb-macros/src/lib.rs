//! `#[backends]`: one async test, run on every database backend.
//!
//! ```ignore
//! #[assent_testdb::backends]
//! async fn creates_and_reads(backend: Backend) { /* … */ }
//! ```
//!
//! becomes the function itself plus a module of the same name with one
//! `#[tokio::test]` per backend: `creates_and_reads::sqlite`, and
//! `creates_and_reads::postgres` when the crate is built with
//! `cfg(postgres_suite)` (see `assent-testdb/postgres_suite.rs`). Every
//! suite declares each test once this way, so a test or a test module added
//! anywhere runs on both backends with no second list to keep in step.
//!
//! Written here because the maintained parametrised-test crates (rstest,
//! test-case) need the cases, and the compile-time switch for the second
//! one, repeated on every test.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

#[proc_macro_attribute]
pub fn backends(args: TokenStream, item: TokenStream) -> TokenStream {
    if !args.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[backends] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let test = parse_macro_input!(item as ItemFn);
    if test.sig.asyncness.is_none() || test.sig.inputs.len() != 1 {
        return syn::Error::new_spanned(
            &test.sig,
            "#[backends] needs `async fn name(backend: Backend)`",
        )
        .to_compile_error()
        .into();
    }
    let name = &test.sig.ident;
    quote! {
        #test

        mod #name {
            #[::tokio::test]
            async fn sqlite() {
                super::#name(::assent_testdb::Backend::Sqlite).await
            }

            #[cfg(postgres_suite)]
            #[::tokio::test]
            async fn postgres() {
                super::#name(::assent_testdb::Backend::Postgres).await
            }
        }
    }
    .into()
}
