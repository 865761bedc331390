//! Guardrail `mutable-image-tag` and the image reference: a repository, an immutable tag
//! (never empty or `latest`, unless an exception relaxes it) and a valid digest if any.

use super::SpecCtx;
use crate::error::Diagnostic;
use crate::model::{ImageSpec, Rule};
use crate::names::{Digest, Tag};
use crate::node::Node;
use crate::policy::{ImageRef, origin_of};

/// The main container's image (`image:`).
pub(super) fn main_image(ctx: &SpecCtx, out: &mut Vec<Diagnostic>) -> Option<ImageRef> {
    let allow_mutable = ctx.allows(Rule::MutableImageTag);
    let image = ctx.spec.image.as_ref();
    check_image(ctx.tree, image, ctx.service, allow_mutable, out)
}

/// Checks `image:` under `tree` (a service or a sidecar) of container `container`.
pub(super) fn check_image(
    tree: &Node,
    image: Option<&ImageSpec>,
    container: &str,
    allow_mutable: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<ImageRef> {
    let repository = repository(tree, image, container, out);
    let tag = tag(tree, image, container, allow_mutable, out);
    let digest = digest(tree, image, out);
    Some(ImageRef {
        repository: repository?,
        tag: tag?,
        digest: digest.ok()?,
    })
}

fn repository(
    tree: &Node,
    image: Option<&ImageSpec>,
    container: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<String> {
    match image.and_then(|i| i.repository.as_deref()) {
        Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => Some(r.to_owned()),
        Some(r) => {
            out.push(
                Diagnostic::new(format!("`{r}` is not a valid image repository"))
                    .at(&origin_of(tree, &["image", "repository"])),
            );
            None
        }
        None => {
            out.push(
                Diagnostic::new(format!("container `{container}` has no image repository"))
                    .at(&origin_of(tree, &["image"]))
                    .hint("set `image.repository`"),
            );
            None
        }
    }
}

fn tag(
    tree: &Node,
    image: Option<&ImageSpec>,
    container: &str,
    allow_mutable: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<Tag> {
    let Some(text) = image.and_then(|i| i.tag.as_deref()) else {
        out.push(
            Diagnostic::new(format!("container `{container}` has no image tag"))
                .at(&origin_of(tree, &["image"]))
                .hint("set `image.tag` in the service's version.yaml (CI writes it with `stencil bump`)"),
        );
        return None;
    };
    let parsed = if allow_mutable {
        Tag::parse_allowing_mutable(text)
    } else {
        Tag::parse(text)
    };
    parsed
        .map_err(|msg| {
            let origin = origin_of(tree, &["image", "tag"]);
            out.push(
                Diagnostic::new(format!("refusing image tag of `{container}`: {msg}"))
                    .at(&origin)
                    .rule(Rule::MutableImageTag.name())
                    .hint(format!(
                        "set an immutable tag (a version or commit SHA) in {}",
                        origin.path()
                    )),
            );
        })
        .ok()
}

/// `Ok(None)` without a digest, `Err(())` for one that does not parse (reported).
fn digest(
    tree: &Node,
    image: Option<&ImageSpec>,
    out: &mut Vec<Diagnostic>,
) -> Result<Option<Digest>, ()> {
    let Some(text) = image.and_then(|i| i.digest.as_deref()) else {
        return Ok(None);
    };
    Digest::parse(text).map(Some).map_err(|msg| {
        out.push(Diagnostic::new(msg).at(&origin_of(tree, &["image", "digest"])));
    })
}
