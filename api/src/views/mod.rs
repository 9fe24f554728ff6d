//! How resources are rendered: the JSON shapes of applications and complaints, built from the
//! domain's types. Routes of several resources share these, so they live outside `routes/`.

pub mod applications;
pub mod calendar;
pub mod complaints;
pub mod documents;
pub mod services;
