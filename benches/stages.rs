//! Micro-benchmarks of the pipeline's hot stages. Each calls the library's own stage
//! functions, on the example repository at the crate root and on a synthetic repository of
//! 100 tenants that `stencil-dev bench-repo` writes once into a temporary directory.
//!
//! Groups, in pipeline order:
//! - `parse`: YAML text to trees (`yaml`), and a repository read, parsed and checked against
//!   the model: every file a render of it loads (`repo`, `repo-100-tenants`).
//! - `resolve`: one tenant x service resolved once its files are parsed, its `extends` chain
//!   not yet merged (`chain`), and once everything is cached (`cached`).
//! - `template`: the resolved tree's templates rendered.
//! - `build`: the policy checks of the spec, the typed objects, the checks of the objects, and
//!   all three as `render_app` runs them (`app`).
//! - `emit`: objects to a YAML stream or a JSON array.
//! - `render_app`: one tenant x service end to end, with the repository cached (`cached`) and
//!   from nothing, as `argocd generate` runs it (`cold`).
//! - `render`: a whole repository as `stencil render` runs it, without writing stdout.
//!
//! The tenant x service measured is momcorp/apiserver: a three-file `extends` chain
//! (service.yaml, prod.yaml, values.yaml), an env.yaml, two version files and secrets, which
//! are decrypted with the example's public demo key.
//!
//! `cargo bench --bench stages [-- FILTER]`, e.g. `-- resolve/` or `-- --warm-up-time 1`.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::Path;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use stencil::emit::{self, Format};
use stencil::load::{self, Loader, Repo, Role, load_one_tenant, load_repo};
use stencil::node::{Node, ScalarKind, Value, is_template};
use stencil::origin::SourceFile;
use stencil::pipeline::{RenderOptions, Renderer, Selection};
use stencil::secrets::{self, Keys};
use stencil::source::{RepoPath, Source, Worktree};
use stencil::template::{self, Vars};
use stencil::{build, policy, resolve};
use stencil_dev::bench_repo;
use tempfile::TempDir;

const TENANT: &str = "momcorp";
const SERVICE: &str = "apiserver";
/// Tenants of the synthetic repository.
const SCALE_TENANTS: usize = 100;

fn main() {
    // SAFETY: the first statement of main: no other thread exists yet.
    let keys = unsafe { demo_keys() };
    let example = Fixture::open(Path::new(env!("CARGO_MANIFEST_DIR")), None);
    let scaled = Fixture::synthetic(&keys, SCALE_TENANTS);
    let mut c = Criterion::default().configure_from_args();
    bench_parse(&mut c, &example, &scaled);
    bench_resolve(&mut c, &example);
    bench_template(&mut c, &example);
    bench_build(&mut c, &example, &keys);
    bench_emit(&mut c, &example, &scaled, &keys);
    bench_render_app(&mut c, &example, &keys);
    bench_render(&mut c, &example, &scaled, &keys);
    c.final_summary();
}

/// The example's demo key, found the way the CLI finds keys.
///
/// # Safety
/// Changes the process environment: call it while the process has one thread.
unsafe fn demo_keys() -> Keys {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-age-key.txt");
    // SAFETY: the caller guarantees that no other thread reads the environment.
    unsafe { std::env::set_var("SOPS_AGE_KEY_FILE", file) };
    let keys = Keys::discover();
    // Read now, not during the first measurement.
    assert!(keys.problems().is_empty(), "{:?}", keys.problems());
    keys
}

/// A repository, and the files a render of all of it loads, each in the role it is loaded in.
struct Fixture {
    source: Worktree,
    /// `stencil.yaml`, the `tenant.yaml` files, then every layer of every tenant x service.
    files: Vec<(RepoPath, Role)>,
    /// Size of those files.
    bytes: u64,
    /// Tenant x services.
    apps: u64,
    /// Where a synthetic repository lives, removed on drop.
    _dir: Option<TempDir>,
}

impl Fixture {
    fn open(root: &Path, dir: Option<TempDir>) -> Fixture {
        let source = Worktree::open(root).unwrap();
        let (files, apps) = {
            let loader = Loader::new(&source);
            let repo = load_repo(&loader).unwrap();
            let mut files = vec![(repo_path("stencil.yaml"), Role::Settings)];
            for tenant in &repo.tenants {
                let path = repo_path(&format!("tenants/{}/tenant.yaml", tenant.name));
                files.push((path, Role::Tenant));
            }
            let apps = everything().apps(&repo);
            let mut seen = HashSet::new();
            let chains = resolve::ChainCache::default();
            for (tenant, service) in &apps {
                for layer in resolve::resolve(&loader, &chains, tenant, service)
                    .unwrap()
                    .layers
                {
                    if seen.insert(layer.clone()) {
                        let role = role_of(&layer);
                        files.push((layer, role));
                    }
                }
            }
            (files, apps.len() as u64)
        };
        let bytes = files
            .iter()
            .map(|(path, _)| source.read(path, u64::MAX).unwrap().unwrap().len() as u64)
            .sum();
        Fixture {
            source,
            files,
            bytes,
            apps,
            _dir: dir,
        }
    }

    /// `bench-repo --tenants N` of the example repository, into a temporary directory.
    fn synthetic(keys: &Keys, tenants: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("repo");
        let options = bench_repo::Options {
            out: out.clone(),
            tenants,
            peers: None,
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        bench_repo::run(root, &options, keys).unwrap();
        Fixture::open(&out, Some(dir))
    }

    /// Loads the repository and every file a render of it reads into `loader`.
    fn load(&self, loader: &Loader<'_>) -> Repo {
        let repo = load_repo(loader).unwrap();
        for (path, role) in &self.files {
            loader.load(path, *role).unwrap();
        }
        repo
    }
}

fn repo_path(text: &str) -> RepoPath {
    RepoPath::parse(text).unwrap()
}

/// Every tenant and tenant x service.
fn everything() -> Selection {
    Selection::new(&[], &[], None).unwrap()
}

/// The role `resolve` loads one of its layers in.
fn role_of(layer: &RepoPath) -> Role {
    match layer.file_name() {
        "env.yaml" => Role::Env,
        "version.yaml" => Role::Version,
        _ => Role::ServiceLayer,
    }
}

/// Strings of a tree that the `template` stage renders.
fn templates(node: &Node) -> u64 {
    match &node.value {
        Value::Scalar(s) => u64::from(s.kind == ScalarKind::Str && is_template(&s.text)),
        Value::Seq(items) => items.iter().map(templates).sum(),
        Value::Map(map) => map.values().map(templates).sum(),
        Value::Null => 0,
    }
}

/// For benchmarks of many milliseconds an iteration: criterion's default of 100 samples of
/// growing length would take minutes.
fn few_samples(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
}

fn bench_parse(c: &mut Criterion, example: &Fixture, scaled: &Fixture) {
    let texts: Vec<_> = example
        .files
        .iter()
        .map(|(path, _)| {
            let bytes = example.source.read(path, u64::MAX).unwrap().unwrap();
            SourceFile::new(path.as_str(), String::from_utf8(bytes).unwrap())
        })
        .collect();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(example.bytes));
    group.bench_function("yaml", |b| {
        b.iter(|| {
            for file in &texts {
                black_box(load::parse::parse(file, load::Limits::default()).unwrap());
            }
        });
    });
    group.bench_function("repo", |b| {
        b.iter(|| example.load(&Loader::new(&example.source)));
    });
    few_samples(&mut group);
    group.throughput(Throughput::Bytes(scaled.bytes));
    group.bench_function(format!("repo-{SCALE_TENANTS}-tenants"), |b| {
        b.iter(|| scaled.load(&Loader::new(&scaled.source)));
    });
    group.finish();
}

fn bench_resolve(c: &mut Criterion, example: &Fixture) {
    let loader = Loader::new(&example.source);
    let repo = example.load(&loader);
    let tenant = repo.tenant(TENANT).unwrap();
    let chains = resolve::ChainCache::default();
    let layers = resolve::resolve(&loader, &chains, tenant, SERVICE)
        .unwrap()
        .layers;
    let mut group = c.benchmark_group("resolve");
    group.bench_function("cached", |b| {
        b.iter(|| resolve::resolve(&loader, &chains, tenant, SERVICE).unwrap());
    });
    group.throughput(Throughput::Elements(layers.len() as u64));
    // A new loader for each iteration, with the app's files parsed but no chain merged.
    let parsed = || {
        let loader = Loader::new(&example.source);
        for layer in &layers {
            loader.load(layer, role_of(layer)).unwrap();
        }
        (loader, resolve::ChainCache::default())
    };
    group.bench_function("chain", |b| {
        b.iter_batched_ref(
            parsed,
            |(loader, chains)| resolve::resolve(loader, chains, tenant, SERVICE).unwrap(),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn bench_template(c: &mut Criterion, example: &Fixture) {
    let loader = Loader::new(&example.source);
    let repo = example.load(&loader);
    let tenant = repo.tenant(TENANT).unwrap();
    let resolved =
        resolve::resolve(&loader, &resolve::ChainCache::default(), tenant, SERVICE).unwrap();
    let engine = template::engine();
    let mut group = c.benchmark_group("template");
    group.throughput(Throughput::Elements(templates(&resolved.tree)));
    group.bench_function("app", |b| {
        b.iter_batched_ref(
            || resolved.tree.clone(),
            |tree| {
                let vars = Vars::new(&repo.settings, tenant, SERVICE).unwrap();
                template::render_tree(&engine, &vars, tree, &repo.settings.budgets).unwrap();
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn bench_build(c: &mut Criterion, example: &Fixture, keys: &Keys) {
    let loader = Loader::new(&example.source);
    let repo = example.load(&loader);
    let tenant = repo.tenant(TENANT).unwrap();
    let renderer = Renderer::new(&loader, &repo, keys).unwrap();
    let (_, templated) = renderer.resolve(tenant, SERVICE).unwrap();
    let tree = &templated.tree;
    let secrets_path = repo_path(&format!("tenants/{TENANT}/{SERVICE}/secrets.enc.yaml"));
    let secrets = secrets::load(&example.source, &secrets_path, keys).unwrap();
    assert!(secrets.is_some(), "{secrets_path} holds the app's secrets");
    let platform = &renderer.platform;
    let settings = &repo.settings;
    let workload =
        policy::check_spec(tree, tenant, SERVICE, settings, platform, secrets.clone()).unwrap();
    let objects = build::build_service(&workload, tenant, settings).unwrap();

    let mut group = c.benchmark_group("build");
    group.bench_function("check_spec", |b| {
        b.iter_batched(
            || secrets.clone(),
            |secrets| {
                policy::check_spec(tree, tenant, SERVICE, settings, platform, secrets).unwrap()
            },
            BatchSize::SmallInput,
        );
    });
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.bench_function("build_service", |b| {
        b.iter(|| build::build_service(&workload, tenant, settings).unwrap());
    });
    group.bench_function("check_objects", |b| {
        b.iter(|| policy::check_objects(&objects, TENANT, SERVICE, platform).unwrap());
    });
    group.bench_function("app", |b| {
        b.iter_batched(
            || secrets.clone(),
            |secrets| {
                let workload =
                    policy::check_spec(tree, tenant, SERVICE, settings, platform, secrets).unwrap();
                let mut objects = build::build_service(&workload, tenant, settings).unwrap();
                policy::check_objects(&objects, TENANT, SERVICE, platform).unwrap();
                build::sort(&mut objects);
                objects
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn bench_emit(c: &mut Criterion, example: &Fixture, scaled: &Fixture, keys: &Keys) {
    let loader = Loader::new(&example.source);
    let repo = load_repo(&loader).unwrap();
    let renderer = Renderer::new(&loader, &repo, keys).unwrap();
    let tenant = repo.tenant(TENANT).unwrap();
    let app = renderer.render_app(tenant, SERVICE).unwrap();

    let scaled_loader = Loader::new(&scaled.source);
    let scaled_repo = load_repo(&scaled_loader).unwrap();
    let all = Renderer::new(&scaled_loader, &scaled_repo, keys)
        .unwrap()
        .render(&everything())
        .unwrap();

    let mut group = c.benchmark_group("emit");
    for (name, objects, format, large) in [
        ("yaml-app".to_owned(), &app, Format::Yaml, false),
        ("json-app".to_owned(), &app, Format::Json, false),
        (
            format!("yaml-{SCALE_TENANTS}-tenants"),
            &all,
            Format::Yaml,
            true,
        ),
    ] {
        let bytes = emit::stream(objects, format).unwrap().len() as u64;
        group.throughput(Throughput::Bytes(bytes));
        if large {
            few_samples(&mut group);
        }
        group.bench_function(name, |b| b.iter(|| emit::stream(objects, format).unwrap()));
    }
    group.finish();
}

fn bench_render_app(c: &mut Criterion, example: &Fixture, keys: &Keys) {
    let loader = Loader::new(&example.source);
    let repo = example.load(&loader);
    let tenant = repo.tenant(TENANT).unwrap();
    let renderer = Renderer::new(&loader, &repo, keys).unwrap();
    let objects = renderer.render_app(tenant, SERVICE).unwrap();

    let mut group = c.benchmark_group("render_app");
    group.throughput(Throughput::Elements(objects.len() as u64));
    group.bench_function("cached", |b| {
        b.iter(|| renderer.render_app(tenant, SERVICE).unwrap());
    });
    group.bench_function("cold", |b| {
        b.iter(|| {
            let loader = Loader::new(&example.source);
            let repo = load_one_tenant(&loader, TENANT).unwrap();
            let renderer = Renderer::new(&loader, &repo, keys).unwrap();
            let tenant = repo.tenant(TENANT).unwrap();
            renderer.render_app(tenant, SERVICE).unwrap()
        });
    });
    group.finish();
}

/// What `stencil render` does for a YAML stream, short of writing it to stdout.
fn render_repo(fixture: &Fixture, keys: &Keys) -> String {
    let loader = Loader::new(&fixture.source);
    let repo = load_repo(&loader).unwrap();
    let options = RenderOptions {
        yaml_only: true,
        ..RenderOptions::default()
    };
    let renderer = Renderer::with_options(&loader, &repo, keys, options).unwrap();
    let objects = renderer.render(&everything()).unwrap();
    emit::stream(&objects, Format::Yaml).unwrap()
}

fn bench_render(c: &mut Criterion, example: &Fixture, scaled: &Fixture, keys: &Keys) {
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(example.apps));
    group.bench_function("example", |b| b.iter(|| render_repo(example, keys)));
    few_samples(&mut group);
    group.throughput(Throughput::Elements(scaled.apps));
    group.bench_function(format!("{SCALE_TENANTS}-tenants"), |b| {
        b.iter(|| render_repo(scaled, keys));
    });
    group.finish();
}
