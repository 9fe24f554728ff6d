//! Documents: attachments uploaded to an application, downloads, the result documents' signing key and
//! their public verification.

pub mod read;
pub mod upload;
pub mod verify;
