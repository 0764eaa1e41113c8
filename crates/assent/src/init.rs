//! `assent init`: a commented `assent.toml` and a starter `policy.toml` that
//! passes `assent policy test`.

use std::process::ExitCode;

use crate::cli::InitArgs;
use crate::error::CliError;
use crate::output;

const CONFIG: &str = include_str!("../templates/assent.toml");
const POLICY: &str = include_str!("../templates/policy.toml");

pub fn run(args: InitArgs) -> Result<ExitCode, CliError> {
    let files = [("assent.toml", CONFIG), ("policy.toml", POLICY)];
    if !args.force
        && let Some((name, _)) = files.iter().find(|(name, _)| args.dir.join(name).exists())
    {
        return Err(CliError::Failed(format!(
            "{} exists; use --force to overwrite it",
            args.dir.join(name).display()
        )));
    }
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| CliError::Failed(format!("{}: {e}", args.dir.display())))?;
    for (name, text) in files {
        let path = args.dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        output::status(&format!("wrote {}", path.display()));
    }
    output::status("start the gateway with: assent serve --config assent.toml");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_policy_loads_and_its_examples_pass() {
        let policy = assent_domain::policy::Policy::from_toml(POLICY, "policy.toml").unwrap();
        assert!(policy.run_examples().is_empty());
        assert_eq!(policy.rules().len(), 6);
    }

    #[test]
    fn the_starter_config_is_a_valid_gateway_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        std::fs::write(&file, CONFIG).unwrap();
        let options = assent_server::ServeOptions {
            config: Some(file),
            ..Default::default()
        };
        let config = assent_server::Config::load(&options).unwrap();
        assert_eq!(config.policy_path(), Some(dir.path().join("policy.toml")));
    }
}
