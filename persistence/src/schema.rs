//! Table definitions, written to match `migrations/{sqlite,postgres}` (both backends share them).

diesel::table! {
    organizations (id) {
        id -> Varchar,
        kind -> Varchar,
        region -> Nullable<Varchar>,
        name_kk -> Text,
        name_ru -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    applications (id) {
        id -> Varchar,
        registration_number -> Varchar,
        service_key -> Varchar,
        passport_version -> Varchar,
        subtype -> Nullable<Varchar>,
        channel -> Varchar,
        status -> Varchar,
        applicant_iin -> Varchar,
        filed_by -> Varchar,
        filed_by_role -> Varchar,
        intake_org_id -> Nullable<Varchar>,
        provider_id -> Varchar,
        assignee -> Nullable<Varchar>,
        representative -> Nullable<Text>,
        form_data -> Text,
        submitted_at -> Timestamp,
        counted_from -> Timestamp,
        due_at -> Timestamp,
        due_date -> Date,
        decided_at -> Nullable<Timestamp>,
        row_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    application_history (id) {
        id -> Varchar,
        application_id -> Varchar,
        seq -> BigInt,
        at -> Timestamp,
        actor_sub -> Varchar,
        actor_role -> Varchar,
        action -> Varchar,
        from_status -> Nullable<Varchar>,
        to_status -> Nullable<Varchar>,
        reason -> Nullable<Text>,
        changes -> Text,
    }
}

diesel::table! {
    idempotency_keys (principal, idem_key) {
        principal -> Varchar,
        idem_key -> Varchar,
        request_hash -> Varchar,
        resource_type -> Varchar,
        resource_id -> Varchar,
        created_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Varchar,
        value -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        kind -> Varchar,
        application_id -> Varchar,
        provider_id -> Varchar,
        applicant_iin -> Varchar,
        payload -> Text,
    }
}

diesel::table! {
    published_passports (service_key, version) {
        service_key -> Varchar,
        version -> Varchar,
        document -> Text,
        service_title -> Nullable<Text>,
        published_at -> Timestamp,
        published_by -> Varchar,
    }
}

diesel::table! {
    calendar_changes (id) {
        id -> Varchar,
        year -> Integer,
        data -> Text,
        reason -> Text,
        changed_at -> Timestamp,
        changed_by -> Varchar,
    }
}

diesel::joinable!(application_history -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    applications,
    application_history,
    idempotency_keys,
    counters,
    events,
    published_passports,
    calendar_changes
);
