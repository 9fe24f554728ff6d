//! `api`: runs the server (default), mints development tokens, prints the OpenAPI spec.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use api::auth::{mint_hs256, Role};
use api::config::{JwtSettings, Settings};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "api", version, about = "Kazakhstan state services (family, children, education): the API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default). Configuration comes from the environment: see README.md.
    Serve,
    /// Print a development token signed with JWT_HS256_SECRET.
    Token {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The person's IIN (applicants), or a staff or client id.
        #[arg(long)]
        sub: String,
        /// The organisation of staff roles (operator, employee, head, reviewer).
        #[arg(long)]
        org: Option<String>,
        /// A service account's scope (`--role system`), repeatable: `events:read:*`,
        /// `applications:read:free_school_meals`, `subscriptions:manage`.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 60)]
        ttl_minutes: i64,
    },
    /// Print the OpenAPI document (the committed openapi.yaml is this output).
    Openapi {
        #[arg(long, value_enum, default_value = "yaml")]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Applicant,
    Operator,
    Employee,
    Head,
    Reviewer,
    Admin,
    System,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Applicant => Role::Applicant,
            RoleArg::Operator => Role::Operator,
            RoleArg::Employee => Role::Employee,
            RoleArg::Head => Role::Head,
            RoleArg::Reviewer => Role::Reviewer,
            RoleArg::Admin => Role::Admin,
            RoleArg::System => Role::System,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Token { role, sub, org, scopes, ttl_minutes } => {
            let jwt = match JwtSettings::from_env() {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let Some(secret) = jwt.hs256_secret else {
                eprintln!("refusing to mint a token: no development secret is configured (set JWT_HS256_SECRET)");
                return ExitCode::from(2);
            };
            let role = Role::from(role);
            if role.needs_org() && org.is_none() {
                eprintln!("a {} token needs --org", role.code());
                return ExitCode::from(2);
            }
            let now = chrono::Utc::now().timestamp();
            if role == Role::System {
                println!("{}", api::auth::mint_service_token(&secret, &sub, &scopes, ttl_minutes * 60, now));
                return ExitCode::SUCCESS;
            }
            if !scopes.is_empty() {
                eprintln!("--scope is for service accounts (--role system)");
                return ExitCode::from(2);
            }
            println!("{}", mint_hs256(&secret, &sub, role, org.as_deref(), ttl_minutes * 60, now));
            ExitCode::SUCCESS
        }
        Command::Openapi { format } => {
            let spec = api::openapi::spec();
            let text = match format {
                Format::Yaml => api::openapi::to_yaml(&spec).expect("the spec serialises"),
                Format::Json => {
                    serde_json::to_string_pretty(&api::openapi::document_json(&spec)).expect("the spec serialises")
                }
            };
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

fn serve() -> ExitCode {
    limit_malloc_arenas();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    api::init_tracing(&settings.log_filter, settings.log_json);
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let listener = TcpListener::bind(settings.bind)?;
        actix_web::rt::System::new().block_on(async {
            let running = api::start(&settings, listener, Arc::new(domain::clock::SystemClock))?;
            tracing::info!(bind = %settings.bind, database = %redact(&settings.database_url), "serving; docs at /docs");
            let served = running.server.await;
            // The deliveries under way finish (or their leases lapse for another instance).
            running.outbox.stop();
            // No background thread is in a query when the process exits.
            running.state.stop_background();
            served?;
            Ok(())
        })
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Hides a password in a database URL before logging it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

/// glibc keeps one malloc arena per busy thread (up to 8 per core) and each keeps its peak: after a
/// 16-client run the server held 276 MB, 90 MB with two arenas (`bench/RESULTS.md`, item 5). Two
/// arenas, unless `MALLOC_ARENA_MAX` says otherwise; set before any worker thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
