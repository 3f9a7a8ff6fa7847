#ifndef ICESHELVES_CRABBITMQ_SHIM_H
#define ICESHELVES_CRABBITMQ_SHIM_H
// Debian 12's librabbitmq-dev 0.11 installs flat headers (<amqp.h>).
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#include <sys/eventfd.h>
#include <poll.h>

// amqp_login() is C-variadic, which Swift cannot call: a fixed-argument wrapper for SASL PLAIN.
static inline amqp_rpc_reply_t iceshelves_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                           int channel_max, int frame_max, int heartbeat,
                                                           const char *user, const char *password) {
    return amqp_login(state, vhost, channel_max, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

// The method-id macros contain casts, which Swift does not import.
static inline amqp_method_number_t iceshelves_amqp_basic_ack_method(void) { return AMQP_BASIC_ACK_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_basic_nack_method(void) { return AMQP_BASIC_NACK_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_basic_return_method(void) { return AMQP_BASIC_RETURN_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_basic_deliver_method(void) { return AMQP_BASIC_DELIVER_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_basic_cancel_method(void) { return AMQP_BASIC_CANCEL_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_basic_cancel_ok_method(void) { return AMQP_BASIC_CANCEL_OK_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_channel_close_method(void) { return AMQP_CHANNEL_CLOSE_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_channel_close_ok_method(void) { return AMQP_CHANNEL_CLOSE_OK_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_connection_close_method(void) { return AMQP_CONNECTION_CLOSE_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_connection_blocked_method(void) { return AMQP_CONNECTION_BLOCKED_METHOD; }
static inline amqp_method_number_t iceshelves_amqp_connection_unblocked_method(void) { return AMQP_CONNECTION_UNBLOCKED_METHOD; }

static inline amqp_flags_t iceshelves_amqp_flag_content_type(void) { return AMQP_BASIC_CONTENT_TYPE_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_headers(void) { return AMQP_BASIC_HEADERS_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_delivery_mode(void) { return AMQP_BASIC_DELIVERY_MODE_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_correlation_id(void) { return AMQP_BASIC_CORRELATION_ID_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_reply_to(void) { return AMQP_BASIC_REPLY_TO_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_expiration(void) { return AMQP_BASIC_EXPIRATION_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_message_id(void) { return AMQP_BASIC_MESSAGE_ID_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_type(void) { return AMQP_BASIC_TYPE_FLAG; }
static inline amqp_flags_t iceshelves_amqp_flag_user_id(void) { return AMQP_BASIC_USER_ID_FLAG; }
#endif
