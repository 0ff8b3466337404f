//! The diesel table definitions; the same tables and columns on every backend
//! (`schema/BACKEND/` holds the migrations).

diesel::table! {
    contacts (id) {
        id -> Integer,
        external_id -> Nullable<Text>,
        name -> Text,
        company -> Nullable<Text>,
        url -> Nullable<Text>,
        route -> Nullable<Text>,
    }
}

diesel::table! {
    contact_phones (id) {
        id -> Integer,
        contact_id -> Integer,
        phone_e164 -> Text,
        label -> Nullable<Text>,
    }
}

diesel::table! {
    dnis_services (dnis) {
        dnis -> Text,
        service -> Text,
        campaign -> Nullable<Text>,
    }
}

diesel::table! {
    call_log (call_id) {
        call_id -> Text,
        switch -> Text,
        direction -> Text,
        ani -> Nullable<Text>,
        ani_e164 -> Nullable<Text>,
        dnis -> Nullable<Text>,
        queue -> Nullable<Text>,
        agent -> Nullable<Text>,
        extension -> Nullable<Text>,
        contact_id -> Nullable<Integer>,
        offered_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        queue_s -> Nullable<Double>,
        ring_s -> Nullable<Double>,
        talk_s -> Nullable<Double>,
        hold_s -> Nullable<Double>,
        acw_s -> Nullable<Double>,
        outcome -> Text,
        transferred_to -> Nullable<Text>,
        source -> Text,
        raw -> Nullable<Text>,
        record_key -> Nullable<Text>,
    }
}

diesel::table! {
    agent_states (id) {
        id -> Text,
        agent -> Text,
        extension -> Nullable<Text>,
        state -> Text,
        reason -> Nullable<Text>,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(contact_phones -> contacts (contact_id));
diesel::allow_tables_to_appear_in_same_query!(
    contacts,
    contact_phones,
    dnis_services,
    call_log,
    agent_states
);
