//! Container and pod metadata from the container runtime's CRI API (`runtime.v1.RuntimeService`
//! on the runtime's unix socket: containerd, CRI-O). Look-ups run on their own thread and fill
//! a cache; events of a container seen before its look-up finished lack these fields (as in
//! Falco: "in instances of lookup delays, this field may not be available yet").
//!
//! The four messages used are declared by hand (field numbers from the CRI `api.proto`), so the
//! build needs no protoc.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// gRPC method paths.
pub const CONTAINER_STATUS: &str = "/runtime.v1.RuntimeService/ContainerStatus";
pub const LIST_CONTAINERS: &str = "/runtime.v1.RuntimeService/ListContainers";
pub const POD_SANDBOX_STATUS: &str = "/runtime.v1.RuntimeService/PodSandboxStatus";

/// Sockets probed when none is configured, in order.
pub const DEFAULT_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/k3s/containerd/containerd.sock",
];

pub mod proto {
    //! The subset of `runtime.v1` messages the collector reads.
    use std::collections::HashMap;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerStatusRequest {
        #[prost(string, tag = "1")]
        pub container_id: String,
        #[prost(bool, tag = "2")]
        pub verbose: bool,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerStatusResponse {
        #[prost(message, optional, tag = "1")]
        pub status: Option<ContainerStatus>,
        #[prost(map = "string, string", tag = "2")]
        pub info: HashMap<String, String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerStatus {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(message, optional, tag = "2")]
        pub metadata: Option<ContainerMetadata>,
        #[prost(message, optional, tag = "8")]
        pub image: Option<ImageSpec>,
        #[prost(string, tag = "9")]
        pub image_ref: String,
        #[prost(map = "string, string", tag = "12")]
        pub labels: HashMap<String, String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerMetadata {
        #[prost(string, tag = "1")]
        pub name: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ImageSpec {
        #[prost(string, tag = "1")]
        pub image: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListContainersRequest {
        #[prost(message, optional, tag = "1")]
        pub filter: Option<ContainerFilter>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ContainerFilter {
        #[prost(string, tag = "1")]
        pub id: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ListContainersResponse {
        #[prost(message, repeated, tag = "1")]
        pub containers: Vec<Container>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Container {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(string, tag = "2")]
        pub pod_sandbox_id: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxStatusRequest {
        #[prost(string, tag = "1")]
        pub pod_sandbox_id: String,
        #[prost(bool, tag = "2")]
        pub verbose: bool,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxStatusResponse {
        #[prost(message, optional, tag = "1")]
        pub status: Option<PodSandboxStatus>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxStatus {
        #[prost(string, tag = "1")]
        pub id: String,
        #[prost(message, optional, tag = "2")]
        pub metadata: Option<PodSandboxMetadata>,
        #[prost(map = "string, string", tag = "7")]
        pub labels: HashMap<String, String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PodSandboxMetadata {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub uid: String,
        #[prost(string, tag = "3")]
        pub namespace: String,
    }
}

/// What the runtime says about a container, as Falco's `container.*`/`k8s.*` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerMeta {
    pub name: String,
    pub image: String,
    pub image_repository: String,
    pub image_tag: String,
    pub privileged: Option<bool>,
    pub pod_name: Option<String>,
    pub pod_namespace: Option<String>,
    pub pod_labels: BTreeMap<String, String>,
}

/// `registry/repo:tag` or `repo@sha256:…` → (repository, tag).
pub fn split_image(image: &str) -> (String, String) {
    if let Some((repo, _digest)) = image.split_once('@') {
        return (repo.to_string(), String::new());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), String::new()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("CRI socket {path}: {source}")]
    Connect {
        path: PathBuf,
        source: tonic::transport::Error,
    },
    #[error("CRI call {method}: {status}")]
    Call {
        method: &'static str,
        status: tonic::Status,
    },
}

pub struct CriClient {
    grpc: tonic::client::Grpc<tonic::transport::Channel>,
}

impl CriClient {
    pub async fn connect(path: PathBuf) -> Result<CriClient, CriError> {
        let socket = path.clone();
        // The URI is required by the API but unused: the connector dials the unix socket.
        let channel = tonic::transport::Endpoint::from_static("http://cri.local")
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let socket = socket.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(socket).await?,
                    ))
                }
            }))
            .await
            .map_err(|source| CriError::Connect { path, source })?;
        Ok(CriClient {
            grpc: tonic::client::Grpc::new(channel),
        })
    }

    async fn call<Req, Resp>(&mut self, method: &'static str, req: Req) -> Result<Resp, CriError>
    where
        Req: prost::Message + 'static,
        Resp: prost::Message + Default + 'static,
    {
        let err = |status| CriError::Call { method, status };
        self.grpc
            .ready()
            .await
            .map_err(|e| err(tonic::Status::unavailable(e.to_string())))?;
        let codec = tonic::codec::ProstCodec::<Req, Resp>::default();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
        Ok(self
            .grpc
            .unary(tonic::Request::new(req), path, codec)
            .await
            .map_err(err)?
            .into_inner())
    }

    /// The metadata of container `id` (full id), `None` if the runtime does not know it.
    pub async fn container(&mut self, id: &str) -> Result<Option<ContainerMeta>, CriError> {
        let req = proto::ContainerStatusRequest {
            container_id: id.to_string(),
            verbose: true,
        };
        let resp: proto::ContainerStatusResponse = match self.call(CONTAINER_STATUS, req).await {
            Err(CriError::Call { status, .. }) if status.code() == tonic::Code::NotFound => {
                return Ok(None);
            }
            other => other?,
        };
        let Some(status) = resp.status else {
            return Ok(None);
        };
        let image = status
            .image
            .map(|i| i.image)
            .filter(|i| !i.is_empty())
            .unwrap_or(status.image_ref);
        let (image_repository, image_tag) = split_image(&image);
        // containerd's and CRI-O's verbose info carry the container's config as JSON.
        let privileged = resp
            .info
            .get("info")
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .and_then(|v| v.get("privileged").and_then(|p| p.as_bool()));
        let mut meta = ContainerMeta {
            name: status.metadata.map(|m| m.name).unwrap_or_default(),
            image,
            image_repository,
            image_tag,
            privileged,
            pod_name: status.labels.get("io.kubernetes.pod.name").cloned(),
            pod_namespace: status.labels.get("io.kubernetes.pod.namespace").cloned(),
            pod_labels: BTreeMap::new(),
        };
        let list: proto::ListContainersResponse = self
            .call(
                LIST_CONTAINERS,
                proto::ListContainersRequest {
                    filter: Some(proto::ContainerFilter { id: id.to_string() }),
                },
            )
            .await?;
        if let Some(sandbox) = list
            .containers
            .into_iter()
            .map(|c| c.pod_sandbox_id)
            .find(|s| !s.is_empty())
        {
            let pod: proto::PodSandboxStatusResponse = self
                .call(
                    POD_SANDBOX_STATUS,
                    proto::PodSandboxStatusRequest {
                        pod_sandbox_id: sandbox,
                        verbose: false,
                    },
                )
                .await?;
            if let Some(p) = pod.status {
                if let Some(m) = p.metadata {
                    meta.pod_name = Some(m.name);
                    meta.pod_namespace = Some(m.namespace);
                }
                meta.pod_labels = p.labels.into_iter().collect();
            }
        }
        Ok(Some(meta))
    }
}

/// Shared between the converter (reads) and the look-up thread (writes).
#[derive(Default)]
struct Shared {
    known: Mutex<HashMap<String, Arc<ContainerMeta>>>,
    asked: Mutex<HashSet<String>>,
    /// Bumped whenever metadata arrives, so renderings made without it are redone.
    version: AtomicU64,
}

/// Asynchronous, cached container metadata.
pub struct Resolver {
    shared: Arc<Shared>,
    tx: std::sync::mpsc::Sender<String>,
}

impl Resolver {
    /// Starts the look-up thread for the runtime socket at `socket`.
    pub fn start(socket: PathBuf) -> Resolver {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("rs-cri".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("CRI runtime");
                rt.block_on(async move {
                    let mut client = None;
                    while let Ok(id) = rx.recv() {
                        if client.is_none() {
                            match CriClient::connect(socket.clone()).await {
                                Ok(c) => client = Some(c),
                                Err(e) => {
                                    tracing::warn!("{e}");
                                    continue;
                                }
                            }
                        }
                        let c = client.as_mut().expect("connected above");
                        match c.container(&id).await {
                            Ok(Some(meta)) => {
                                worker.known.lock().unwrap().insert(id, Arc::new(meta));
                                worker.version.fetch_add(1, Ordering::Release);
                            }
                            Ok(None) => tracing::debug!("CRI does not know container {id}"),
                            Err(e) => {
                                tracing::warn!("container {id}: {e}");
                                client = None;
                            }
                        }
                    }
                });
            })
            .expect("spawning the CRI thread");
        Resolver { shared, tx }
    }

    /// The metadata of container `id` (full id) if known; asks for it (once) otherwise.
    pub fn get(&self, id: &str) -> Option<Arc<ContainerMeta>> {
        if let Some(m) = self.shared.known.lock().unwrap().get(id) {
            return Some(m.clone());
        }
        if self.shared.asked.lock().unwrap().insert(id.to_string()) {
            let _ = self.tx.send(id.to_string());
        }
        None
    }

    pub fn version(&self) -> u64 {
        self.shared.version.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        assert_eq!(
            split_image("docker.io/library/nginx:1.25"),
            ("docker.io/library/nginx".into(), "1.25".into())
        );
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000/app".into(), String::new())
        );
        assert_eq!(
            split_image("quay.io/x/y@sha256:abc"),
            ("quay.io/x/y".into(), String::new())
        );
    }
}
