//! Complaints (шағым / жалоба) about a provider's decision, action or inaction: filing, reading, and
//! the provider's and the review body's steps. The procedure is `domain::complaint` (order No 414,
//! rules para 38); each step is one transaction with its entry on the application's history, an
//! event and the applicant's notice, and reopens a decided application when the complaint succeeds.

pub mod file;
pub mod read;
pub mod steps;
