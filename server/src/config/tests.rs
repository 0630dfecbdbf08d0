//! The settings' defaults, layering and checks.
#![allow(clippy::result_large_err)] // figment::Jail's closure type is figment's, not ours

use super::*;

#[test]
fn passwords_never_reach_debug_output_or_logs() {
    let settings =
        Settings { database_url: SecretString::from("postgres://bill:hunter2@db/billhook"), ..Settings::default() };
    assert!(!format!("{settings:?}").contains("hunter2"));
    assert_eq!(settings.database_url_redacted(), "postgres://bill:REDACTED@db/billhook");
}

#[test]
fn secure_cookies_follow_the_public_url_unless_forced() {
    let mut settings =
        Settings { public_url: Some("https://billing.example.com".parse().unwrap()), ..Settings::default() };
    assert!(settings.secure_cookies());
    settings.secure_cookies = Some(false);
    assert!(!settings.secure_cookies());
    assert!(!Settings::default().secure_cookies());
}

#[test]
fn file_values_are_overridden_by_the_environment() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("billhook.toml", "database_max_connections = 4\nlogin_max_failures_per_ip = 9\n")?;
        jail.set_env("BILLHOOK_LOGIN_MAX_FAILURES_PER_IP", "3");
        jail.set_env("DATABASE_URL", "sqlite://elsewhere.db");
        let settings = Settings::load(None).map_err(|e| e.to_string())?;
        assert_eq!(settings.database_max_connections, 4);
        assert_eq!(settings.login_max_failures_per_ip, 3);
        assert_eq!(settings.database_url.expose_secret(), "sqlite://elsewhere.db");
        Ok(())
    });
}

#[test]
fn schedules_can_be_set_from_the_environment() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("BILLHOOK_SCHEDULES__DISPATCH_SWEEP", "*/5 * * * * *");
        let settings = Settings::load(None).map_err(|e| e.to_string())?;
        assert_eq!(settings.schedules.get("dispatch_sweep").map(String::as_str), Some("*/5 * * * * *"));
        Ok(())
    });
}

#[test]
fn the_catalogue_comes_from_the_file_or_the_environment_and_is_checked() {
    figment::Jail::expect_with(|jail| {
        assert_eq!(Settings::load(None).map_err(|e| e.to_string())?.catalogue, billhook_model::Catalogue::default());
        jail.create_file(
            "billhook.toml",
            r#"
[[catalogue]]
key = "basic"
name = "Basic"
prices = [
  { lookup_key = "basic_monthly", amount = 700, currency = "eur", interval = "month" },
]

[[catalogue]]
key = "team"
name = "Team seats"
requires = "basic"
prices = [{ lookup_key = "team_yearly", amount = 12000, currency = "usd", interval = "year" }]
"#,
        )?;
        let settings = Settings::load(None).map_err(|e| e.to_string())?;
        let (kind, price) = settings.catalogue.price("team_yearly").expect("the new type, with no code change");
        assert_eq!((kind.requires.as_deref(), price.amount), (Some("basic"), 12000));

        jail.set_env(
            "BILLHOOK_CATALOGUE",
            r#"[{key="solo", name="Solo", prices=[{lookup_key="solo_monthly", amount=300, currency="eur", interval="month"}]}]"#,
        );
        let settings = Settings::load(None).map_err(|e| e.to_string())?;
        assert_eq!(settings.catalogue.types.len(), 1);
        assert_eq!(settings.catalogue.types[0].key, "solo");

        jail.set_env(
            "BILLHOOK_CATALOGUE",
            r#"[{key="solo", name="Solo", requires="gold", prices=[{lookup_key="solo_monthly", amount=300, currency="eur", interval="month"}]}]"#,
        );
        let error = format!("{:#}", Settings::load(None).unwrap_err());
        assert!(error.contains("gold"), "{error}");
        Ok(())
    });
}

#[test]
fn an_unknown_setting_is_an_error_not_ignored() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("billhook.toml", "databse_url = \"typo\"\n")?;
        assert!(Settings::load(None).is_err());
        Ok(())
    });
}
