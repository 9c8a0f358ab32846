//! Container and pod metadata from a CRI runtime: a protocol-faithful fake
//! `runtime.v1.RuntimeService` (real gRPC over a unix socket, the messages of the CRI
//! `api.proto`) answers for a container whose cgroup a real process joins.

// tonic::Status is what the gRPC API returns; its size is not ours to choose.
#![allow(clippy::result_large_err)]

mod common;

use common::{Harness, is, s};
use rulestudio_collector::cri::{self, proto};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::{Body, BoxFuture, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

/// One unary method answered by a closure.
struct Unary<F>(F);

impl<Req, Resp: Send + 'static, F: FnMut(Req) -> Result<Resp, Status>> UnaryService<Req>
    for Unary<F>
{
    type Response = Resp;
    type Future = std::future::Ready<Result<Response<Resp>, Status>>;
    fn call(&mut self, req: Request<Req>) -> Self::Future {
        std::future::ready((self.0)(req.into_inner()).map(Response::new))
    }
}

#[derive(Clone)]
struct FakeCri {
    containers: Arc<HashMap<String, (proto::ContainerStatusResponse, String)>>,
    sandboxes: Arc<HashMap<String, proto::PodSandboxStatus>>,
}

impl NamedService for FakeCri {
    const NAME: &'static str = "runtime.v1.RuntimeService";
}

impl<B> tower::Service<http::Request<B>> for FakeCri
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let this = self.clone();
        macro_rules! unary {
            ($f:expr) => {
                Box::pin(async move {
                    Ok(Grpc::new(tonic::codec::ProstCodec::default())
                        .unary(Unary($f), req)
                        .await)
                })
            };
        }
        match req.uri().path() {
            cri::CONTAINER_STATUS => unary!(move |r: proto::ContainerStatusRequest| {
                this.containers
                    .get(&r.container_id)
                    .map(|(c, _)| c.clone())
                    .ok_or_else(|| Status::not_found(r.container_id))
            }),
            cri::LIST_CONTAINERS => unary!(move |r: proto::ListContainersRequest| {
                let id = r.filter.map(|f| f.id).unwrap_or_default();
                let containers = this
                    .containers
                    .iter()
                    .filter(|(cid, _)| id.is_empty() || **cid == id)
                    .map(|(cid, (_, sandbox))| proto::Container {
                        id: cid.clone(),
                        pod_sandbox_id: sandbox.clone(),
                    })
                    .collect();
                Ok(proto::ListContainersResponse { containers })
            }),
            cri::POD_SANDBOX_STATUS => unary!(move |r: proto::PodSandboxStatusRequest| {
                let status = this
                    .sandboxes
                    .get(&r.pod_sandbox_id)
                    .cloned()
                    .ok_or_else(|| Status::not_found(r.pod_sandbox_id))?;
                Ok(proto::PodSandboxStatusResponse {
                    status: Some(status),
                })
            }),
            other => {
                let status = Status::unimplemented(other.to_string());
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn container_and_pod_metadata_from_the_runtime() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let id =
        format!("{:016x}{:08x}cc", nanos as u64, std::process::id()).repeat(3)[..64].to_string();
    let status = proto::ContainerStatusResponse {
        status: Some(proto::ContainerStatus {
            id: id.clone(),
            metadata: Some(proto::ContainerMetadata { name: "web".into() }),
            image: Some(proto::ImageSpec {
                image: "docker.io/library/nginx:1.25".into(),
            }),
            image_ref: "docker.io/library/nginx@sha256:0123".into(),
            labels: map(&[
                ("io.kubernetes.pod.name", "web-0"),
                ("io.kubernetes.pod.namespace", "prod"),
            ]),
        }),
        info: map(&[("info", r#"{"pid":1,"privileged":true}"#)]),
    };
    let sandbox = proto::PodSandboxStatus {
        id: "sandbox-1".into(),
        metadata: Some(proto::PodSandboxMetadata {
            name: "web-0".into(),
            uid: "u-1".into(),
            namespace: "prod".into(),
        }),
        labels: map(&[("app", "web"), ("tier", "front")]),
    };
    let fake = FakeCri {
        containers: Arc::new(HashMap::from([(
            id.clone(),
            (status, "sandbox-1".to_string()),
        )])),
        sandboxes: Arc::new(HashMap::from([("sandbox-1".to_string(), sandbox)])),
    };
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("containerd.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(
                tokio::net::UnixListener::from_std(listener).unwrap(),
            );
            tonic::transport::Server::builder()
                .add_service(fake)
                .serve_with_incoming(incoming)
                .await
                .unwrap();
        });
    });

    let mut h = Harness::start();
    h.set_cri(socket);
    let cg = common::cgroup_mount(None).join(format!("kubepods.slice/cri-containerd-{id}.scope"));
    std::fs::create_dir_all(&cg).unwrap();
    // The first events of a new container may precede its look-up; later ones carry it.
    let script = format!(
        "echo $$ > {}/cgroup.procs && exec bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do cat /etc/hostname; sleep 0.2; done'",
        cg.display()
    );
    let mut child = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let e = h.wait_for("an event with pod metadata", |e| {
        is(e, "container.id", &id[..12]) && e.contains_key("k8s.pod.name")
    });
    child.wait().unwrap();
    let _ = std::fs::remove_dir(&cg);
    assert_eq!(s(&e, "container.name"), "web");
    assert_eq!(s(&e, "container.image"), "docker.io/library/nginx:1.25");
    assert_eq!(
        (
            s(&e, "container.image.repository"),
            s(&e, "container.image.tag")
        ),
        ("docker.io/library/nginx", "1.25")
    );
    assert!(is(&e, "container.privileged", true));
    assert_eq!(
        (s(&e, "k8s.pod.name"), s(&e, "k8s.ns.name")),
        ("web-0", "prod")
    );
    assert_eq!(s(&e, "k8s.pod.labels"), "app:web,tier:front");
    assert_eq!(s(&e, "k8s.pod.label[app]"), "web");
    for (k, v) in &e {
        common::check_field(k, v);
    }
}
