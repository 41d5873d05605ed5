//! Run an emulator until Ctrl-C and write its kubeconfig: `cargo run -p kube-emulator --example
//! serve -- /tmp/emu.kubeconfig`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "kube-emulator.kubeconfig".to_string());
    let emu = kube_emulator::start(kube_emulator::EmulatorConfig::default()).await?;
    emu.write_kubeconfig(std::path::Path::new(&path))?;
    println!("kube-emulator at {} (kubeconfig {path})", emu.url());
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(())
}
