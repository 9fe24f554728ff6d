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
        stage_due_at -> Nullable<Timestamp>,
        hearing_at -> Nullable<Timestamp>,
        hearing_place -> Nullable<Text>,
        decision -> Nullable<Text>,
        status_since -> Nullable<Timestamp>,
        term_working_days -> Nullable<BigInt>,
        working_days_to_decision -> Nullable<BigInt>,
        decided_on_time -> Nullable<Bool>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Varchar,
        recipient_iin -> Varchar,
        application_id -> Varchar,
        kind -> Varchar,
        text_kk -> Text,
        text_ru -> Text,
        text_en -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
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
        service_key -> Nullable<Varchar>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Varchar,
        owner_sub -> Varchar,
        owner_role -> Varchar,
        transport -> Varchar,
        target -> Text,
        secret -> Text,
        filter -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Varchar,
        subscription_id -> Varchar,
        event_id -> BigInt,
        state -> Varchar,
        attempts -> BigInt,
        created_at -> Timestamp,
        window_start -> Nullable<Timestamp>,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        claimed_by -> Nullable<Varchar>,
        last_status -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        dead_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    delivery_attempts (id) {
        id -> BigInt,
        delivery_id -> Varchar,
        attempt -> BigInt,
        at -> Timestamp,
        status_code -> Nullable<BigInt>,
        latency_ms -> BigInt,
        error -> Nullable<Text>,
        outcome -> Varchar,
        instance -> Varchar,
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

diesel::table! {
    calendar_recomputes (change_id) {
        change_id -> Varchar,
        along -> Varchar,
        after_at -> Nullable<Timestamp>,
        after_id -> Nullable<Varchar>,
        moved_count -> BigInt,
        leased_by -> Nullable<Varchar>,
        leased_until -> Nullable<Timestamp>,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    documents (id) {
        id -> Varchar,
        application_id -> Varchar,
        kind -> Varchar,
        requirement_code -> Nullable<Varchar>,
        result_kind -> Nullable<Varchar>,
        file_name -> Varchar,
        content_type -> Varchar,
        size_bytes -> BigInt,
        sha256 -> Varchar,
        content -> Binary,
        signature -> Nullable<Text>,
        created_by -> Varchar,
        created_by_role -> Varchar,
        created_at -> Timestamp,
    }
}

diesel::table! {
    document_signing_keys (id) {
        id -> Varchar,
        seed -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    registry_records (id) {
        id -> Varchar,
        registry -> Varchar,
        subject_iin -> Varchar,
        kind -> Varchar,
        data -> Text,
        valid_until -> Nullable<Date>,
        updated_at -> Timestamp,
        updated_by -> Varchar,
    }
}

diesel::table! {
    complaints (id) {
        id -> Varchar,
        application_id -> Varchar,
        applicant_iin -> Varchar,
        provider_id -> Varchar,
        service_key -> Varchar,
        registration_number -> Varchar,
        subject -> Varchar,
        text -> Text,
        status -> Varchar,
        application_status -> Varchar,
        registered_at -> Timestamp,
        forward_due_at -> Timestamp,
        forward_due_date -> Date,
        provider_due_at -> Timestamp,
        provider_due_date -> Date,
        reviewer_org -> Nullable<Varchar>,
        forwarded_at -> Nullable<Timestamp>,
        forwarded_by -> Nullable<Varchar>,
        forwarded_on_time -> Nullable<Bool>,
        review_due_at -> Nullable<Timestamp>,
        review_due_date -> Nullable<Date>,
        outcome -> Nullable<Varchar>,
        reason -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        resolved_by -> Nullable<Varchar>,
        resolved_by_role -> Nullable<Varchar>,
        resolved_on_time -> Nullable<Bool>,
        reopened -> Bool,
        terms -> Text,
        row_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    access_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_sub -> Varchar,
        actor_role -> Varchar,
        actor_org -> Nullable<Varchar>,
        kind -> Varchar,
        resource_id -> Varchar,
        application_id -> Nullable<Varchar>,
        subject_iin -> Nullable<Varchar>,
        request_id -> Nullable<Varchar>,
    }
}

diesel::table! {
    staff_members (org_id, sub) {
        org_id -> Varchar,
        sub -> Varchar,
        role -> Varchar,
        full_name -> Varchar,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        updated_by -> Varchar,
    }
}

diesel::table! {
    stage_timings (id) {
        id -> BigInt,
        application_id -> Varchar,
        provider_id -> Varchar,
        service_key -> Varchar,
        submitted_at -> Timestamp,
        stage -> Varchar,
        started_at -> Timestamp,
        ended_at -> Timestamp,
        minutes -> BigInt,
        working_days -> BigInt,
    }
}

diesel::table! {
    law_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    queues (id) {
        id -> Varchar,
        territory -> Varchar,
        birth_year -> Integer,
        next_number -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    queue_priority_categories (code) {
        code -> Varchar,
        priority_rank -> Integer,
        name_kk -> Text,
        name_ru -> Text,
        name_en -> Text,
        source -> Text,
        updated_by -> Varchar,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    queue_referral_terms (id) {
        id -> Varchar,
        effective_from -> Date,
        valid_days -> Integer,
        source -> Text,
        recorded_by -> Varchar,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    preschools (org_id) {
        org_id -> Varchar,
        territory -> Varchar,
        recorded_by -> Varchar,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    queue_entries (id) {
        id -> Varchar,
        queue_id -> Varchar,
        entry_number -> BigInt,
        application_id -> Varchar,
        applicant_iin -> Varchar,
        child_iin -> Varchar,
        category_code -> Nullable<Varchar>,
        priority_rank -> Integer,
        registered_at -> Timestamp,
        registered_day -> BigInt,
        state -> Varchar,
        position_at_issue -> BigInt,
        waiting_until -> Nullable<Timestamp>,
        left_at -> Nullable<Timestamp>,
        waited_days -> Nullable<BigInt>,
        slip_document_id -> Nullable<Varchar>,
        row_version -> BigInt,
    }
}

diesel::table! {
    preschool_places (id) {
        id -> Varchar,
        preschool_id -> Varchar,
        queue_id -> Varchar,
        state -> Varchar,
        recorded_by -> Varchar,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    referrals (id) {
        id -> Varchar,
        place_id -> Varchar,
        entry_id -> Varchar,
        queue_id -> Varchar,
        issued_at -> Timestamp,
        valid_until -> Timestamp,
        state -> Varchar,
        closed_at -> Nullable<Timestamp>,
        document_id -> Nullable<Varchar>,
    }
}

diesel::joinable!(queue_entries -> queues (queue_id));
diesel::joinable!(referrals -> queue_entries (entry_id));
diesel::joinable!(staff_members -> organizations (org_id));
diesel::joinable!(deliveries -> subscriptions (subscription_id));
diesel::joinable!(deliveries -> events (event_id));
diesel::joinable!(delivery_attempts -> deliveries (delivery_id));
diesel::joinable!(complaints -> applications (application_id));
diesel::joinable!(documents -> applications (application_id));
diesel::joinable!(application_history -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    applications,
    application_history,
    idempotency_keys,
    counters,
    events,
    published_passports,
    notifications,
    calendar_changes,
    calendar_recomputes,
    documents,
    document_signing_keys,
    registry_records,
    complaints,
    access_log,
    staff_members,
    law_generation,
    stage_timings,
    subscriptions,
    deliveries,
    delivery_attempts,
    queues,
    queue_priority_categories,
    queue_referral_terms,
    preschools,
    queue_entries,
    preschool_places,
    referrals
);
