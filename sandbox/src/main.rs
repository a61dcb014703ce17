//! The `citizen-sandbox` command: `serve` runs the portal for agency developers and tests; `demo`
//! runs the scripted citizen journey against an embedded portal.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use citizen_core::checkin::wire::{MintVenueRequest, NotifyRequest, VenueKind};
use citizen_sandbox::{SandboxConfig, demo};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "citizen-sandbox",
    about = "The Citizen SDK's reference agency portal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sandbox portal over HTTPS until interrupted.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8443)]
        port: u16,
        /// Where the portal keeps its database and writes ca.pem.
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// Address to bind; loopback unless you need a phone on your network to reach it.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
        /// The portal's display name (kept across runs otherwise).
        #[arg(long)]
        portal_name: Option<String>,
        /// Write {base_url, ca_pem_path, spki_pin} as JSON here once listening (for scripts).
        #[arg(long)]
        ready_file: Option<PathBuf>,
    },
    /// Enrol a citizen (what a level-2 e-ID registration yields) and print the activation code.
    /// Fields left out get a sample citizen's values.
    Enroll {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// The 12-digit ID number (CCCD); a random one when left out.
        #[arg(long)]
        id_number: Option<String>,
        #[arg(long)]
        full_name: Option<String>,
        /// YYYY-MM-DD.
        #[arg(long)]
        birth_date: Option<String>,
        /// male or female.
        #[arg(long)]
        sex: Option<String>,
    },
    /// Revoke (or suspend, or reinstate) every credential issued to a citizen. The status list a
    /// running sandbox on the same data directory serves next shows it.
    Revoke {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// The citizen's 12-digit ID number.
        #[arg(long)]
        id_number: String,
        /// Suspend instead of revoking.
        #[arg(long, conflicts_with = "reinstate")]
        suspend: bool,
        /// Make the credentials valid again.
        #[arg(long)]
        reinstate: bool,
    },
    /// Make a presentation request of the sandbox's relying party (OpenID4VP) and print its
    /// link and QR, for a wallet to answer against a running `serve` on the same data directory.
    RpRequest {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// The running sandbox's base URL (what `serve` printed).
        #[arg(long, default_value = "https://127.0.0.1:8443/")]
        base_url: String,
        /// The PID claims to ask for, comma-separated (default full_name,age_over_18).
        #[arg(long, value_delimiter = ',')]
        claims: Vec<String>,
        /// Claims the citizen may leave out, comma-separated.
        #[arg(long, value_delimiter = ',')]
        optional: Vec<String>,
        /// Ask for an encrypted response (`direct_post.jwt`).
        #[arg(long)]
        encrypted: bool,
    },
    /// Mint a venue or service-counter code (`CK1:`) of the sandbox agency and print it with its
    /// QR. A running `serve` on the same data directory knows the venue at once.
    MintVenue {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// 1 to 64 characters of A-Z a-z 0-9 . _ -, unique within the agency.
        #[arg(long)]
        venue_id: String,
        /// The display name (1 to 120 characters).
        #[arg(long)]
        name: String,
        /// The address (at most 200 characters).
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long, value_enum, default_value_t = KindArg::Venue)]
        kind: KindArg,
        /// How many days the code is valid (default 365).
        #[arg(long)]
        valid_days: Option<u32>,
        /// Automatic check-out after this many minutes (1 to 1440; default 240).
        #[arg(long)]
        auto_checkout_minutes: Option<u32>,
        /// Also write the QR as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Publish an exposure notice for a minted venue: who checked in there between --from and
    /// --until should read --message. A running `serve` on the same data directory serves it next.
    Notify {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        #[arg(long)]
        venue_id: String,
        /// Start of the exposure: RFC 3339 (2026-11-20T08:30:00+07:00) or Unix seconds.
        #[arg(long, value_parser = parse_time)]
        from: i64,
        /// End of the exposure: RFC 3339 or Unix seconds.
        #[arg(long, value_parser = parse_time)]
        until: i64,
        /// What the citizen reads (at most 1000 characters).
        #[arg(long)]
        message: String,
    },
    /// Pay a dossier's fee as a citizen's bank app would, from the VietQR text the phone shows
    /// (the agency's collection account, the fee's exact amount, the receipt code as the transfer
    /// note), and print the transaction. A running `serve` on the same data directory reports
    /// `fee_paid` at once and completes the dossier one pace later.
    Pay {
        /// The sandbox's data directory (the one `serve --data` uses).
        #[arg(long, default_value = "sandbox-data")]
        data: PathBuf,
        /// The VietQR text (starts with 000201).
        qr: String,
    },
    /// Run a whole citizen journey through the SDK against an embedded sandbox.
    Demo {
        /// Keep the citizen's encrypted store here for inspection.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// What kind of place a minted code stands at.
#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Venue,
    /// A service counter: checking in asks for a queue ticket.
    Counter,
    Event,
}

fn parse_time(text: &str) -> Result<i64, String> {
    citizen_sandbox::checkin::parse_time(text)
        .ok_or_else(|| "expected RFC 3339 (2026-11-20T08:30:00Z) or Unix seconds".into())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        Command::Enroll { .. } => "warn",
        Command::Revoke { .. } => "warn",
        Command::RpRequest { .. } => "warn",
        Command::MintVenue { .. } => "warn",
        Command::Notify { .. } => "warn",
        Command::Pay { .. } => "warn",
        Command::Demo { .. } => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = match cli.command {
        Command::Serve {
            port,
            data,
            bind,
            portal_name,
            ready_file,
        } => serve(SocketAddr::new(bind, port), data, portal_name, ready_file).await,
        Command::Enroll {
            data,
            id_number,
            full_name,
            birth_date,
            sex,
        } => enroll(data, id_number, full_name, birth_date, sex),
        Command::Revoke {
            data,
            id_number,
            suspend,
            reinstate,
        } => revoke(data, &id_number, suspend, reinstate),
        Command::RpRequest {
            data,
            base_url,
            claims,
            optional,
            encrypted,
        } => rp_request(data, base_url, claims, optional, encrypted),
        Command::MintVenue {
            data,
            venue_id,
            name,
            address,
            kind,
            valid_days,
            auto_checkout_minutes,
            svg,
        } => {
            let request = MintVenueRequest {
                venue_id,
                name,
                address,
                kind: match kind {
                    KindArg::Venue => VenueKind::Venue,
                    KindArg::Counter => VenueKind::ServiceCounter,
                    KindArg::Event => VenueKind::Event,
                },
                valid_for: valid_days.map(|days| i64::from(days) * 24 * 60 * 60),
                auto_checkout: auto_checkout_minutes.map(|minutes| minutes.saturating_mul(60)),
            };
            mint_venue(data, &request, svg)
        }
        Command::Notify {
            data,
            venue_id,
            from,
            until,
            message,
        } => notify(
            data,
            &NotifyRequest {
                venue_id,
                from,
                until,
                message,
            },
        ),
        Command::Pay { data, qr } => pay(data, &qr),
        Command::Demo { data_dir } => {
            demo::run(demo::DemoOptions { data_dir }, &mut std::io::stdout())
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("citizen-sandbox: {error}");
            ExitCode::FAILURE
        }
    }
}

fn rp_request(
    data: PathBuf,
    mut base_url: String,
    claims: Vec<String>,
    optional_claims: Vec<String>,
    encrypted: bool,
) -> Result<(), String> {
    if !base_url.ends_with('/') {
        base_url.push('/');
    }
    let spec = citizen_sandbox::relying_party::PresentationRequestSpec {
        claims,
        optional_claims,
        encrypted,
        ..Default::default()
    };
    let created =
        citizen_sandbox::rp_request_offline(&data, &base_url, spec).map_err(|e| e.to_string())?;
    let qr = citizen_core::qr::QrImage::encode(&created.link).map_err(|e| e.to_string())?;
    println!("Presentation request {}", created.id);
    println!("  purpose : {}", created.purpose);
    println!("  link    : {}", created.link);
    println!(
        "  result  : GET {base_url}v1/test/rp/results/{}",
        created.id
    );
    println!("{}", qr.to_terminal());
    Ok(())
}

fn mint_venue(
    data: PathBuf,
    request: &MintVenueRequest,
    svg: Option<PathBuf>,
) -> Result<(), String> {
    let minted = citizen_sandbox::mint_venue_offline(&data, request).map_err(|e| e.to_string())?;
    // Venue and counter codes are printed and hung on walls and counters, where they get
    // scratched, creased and glared: High error correction (about 30 %), as `citizen_core::qr`
    // advises for printed codes and as the demo draws its door code, not the screen default.
    let qr = citizen_core::qr::render(&minted.code, citizen_core::qr::ErrorCorrection::High)
        .map_err(|e| e.to_string())?;
    if let Some(path) = &svg {
        std::fs::write(path, qr.to_svg()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("Venue code of {} for {}", minted.agency, request.venue_id);
    println!("  code : {}", minted.code);
    if let Some(path) = svg {
        println!("  SVG  : {}", path.display());
    }
    println!("{}", qr.to_terminal());
    Ok(())
}

fn notify(data: PathBuf, request: &NotifyRequest) -> Result<(), String> {
    let published = citizen_sandbox::notify_offline(&data, request).map_err(|e| e.to_string())?;
    println!(
        "Exposure notice {} published for {} in the sandbox at {}",
        published.id,
        request.venue_id,
        data.display()
    );
    Ok(())
}

fn pay(data: PathBuf, qr: &str) -> Result<(), String> {
    let transfer = citizen_sandbox::pay_offline(&data, qr).map_err(|e| e.to_string())?;
    println!(
        "Transfer {} of {} VND for {} paid in the sandbox at {}",
        transfer.transaction_id,
        transfer.amount,
        transfer.reference,
        data.display()
    );
    Ok(())
}

fn enroll(
    data: PathBuf,
    id_number: Option<String>,
    full_name: Option<String>,
    birth_date: Option<String>,
    sex: Option<String>,
) -> Result<(), String> {
    let id_number = id_number.unwrap_or_else(random_id_number);
    let mut request = citizen_sandbox::enrollment::EnrollmentRequest::sample(&id_number);
    if let Some(name) = full_name {
        request.full_name = name;
    }
    if let Some(date) = birth_date {
        request.birth_date = date;
    }
    if let Some(sex) = sex {
        request.sex = sex;
    }
    let enrollment = citizen_sandbox::enroll_offline(&data, &request).map_err(|e| e.to_string())?;
    println!("Enrolled in the sandbox at {}", data.display());
    println!("  ID number       : {}", enrollment.id_number);
    println!("  activation code : {}", enrollment.activation_code);
    println!(
        "  valid until     : {} (Unix seconds)",
        enrollment.expires_at
    );
    Ok(())
}

fn revoke(data: PathBuf, id_number: &str, suspend: bool, reinstate: bool) -> Result<(), String> {
    use citizen_sandbox::issuer::CredentialStatus;
    let status = match (suspend, reinstate) {
        (true, _) => CredentialStatus::Suspended,
        (_, true) => CredentialStatus::Valid,
        _ => CredentialStatus::Revoked,
    };
    let updated = citizen_sandbox::set_credential_status_offline(&data, id_number, status)
        .map_err(|e| e.to_string())?;
    let word = match status {
        CredentialStatus::Valid => "reinstated",
        CredentialStatus::Revoked => "revoked",
        CredentialStatus::Suspended => "suspended",
    };
    println!(
        "{updated} credential(s) {word} in the sandbox at {}",
        data.display()
    );
    Ok(())
}

/// A sample CCCD number: province code 001 (Hà Nội), then random digits.
fn random_id_number() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "001{:09}",
        (u64::from(nanos) * 7919 + u64::from(std::process::id())) % 1_000_000_000
    )
}

async fn serve(
    bind: SocketAddr,
    data_dir: PathBuf,
    portal_name: Option<String>,
    ready_file: Option<PathBuf>,
) -> Result<(), String> {
    let sandbox = citizen_sandbox::start(SandboxConfig {
        data_dir,
        bind,
        portal_name,
    })
    .await
    .map_err(|e| e.to_string())?;
    println!("Sandbox portal \"{}\"", sandbox.portal_name);
    println!("  base URL : {}", sandbox.base_url);
    println!("  CA       : {}", sandbox.ca_pem_path.display());
    println!("  SPKI pin : {}  (leaf)", sandbox.spki_pin);
    println!("  SPKI pin : {}  (CA)", sandbox.ca_spki_pin);
    println!(
        "  trust anchor (kid {}): {}",
        sandbox.trust_anchor_kid,
        sandbox.trust_anchor.to_value()
    );
    println!("Press Ctrl-C to stop.");
    if let Some(path) = ready_file {
        let ready = serde_json::json!({
            "base_url": sandbox.base_url,
            "ca_pem_path": sandbox.ca_pem_path,
            "spki_pin": sandbox.spki_pin,
            "trust_anchor_kid": sandbox.trust_anchor_kid,
            "trust_anchor_jwk": sandbox.trust_anchor.to_value().to_string(),
        });
        // Written through a rename so a reader never sees half a file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, ready.to_string()).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
    }
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    sandbox.shutdown();
    Ok(())
}
