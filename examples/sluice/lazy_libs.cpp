// libpq and libcurl, loaded when a command first uses them (SLUICE_CLI_LAZY_LIBS).
//
// Linked as usual, libpq and libcurl bring some 25 shared libraries into every run of the
// CLI (Kerberos, LDAP, SASL, GnuTLS and p11-kit, libssh2, librtmp, nghttp2, ...): about
// 4.5 MiB of mapped pages before main, and GnuTLS initialises itself in a constructor. A
// local `convert` uses none of it. This file defines the libpq and libcurl functions the CLI
// calls; each one loads its library with dlopen at the first call and forwards to the real
// function. The linker then takes these definitions and, with --as-needed, leaves libpq and
// libcurl out of the executable's dependencies.
//
// The definitions are hidden: the executable does not export them, so the loaded libraries'
// own calls to these functions still reach their own code.
#if defined(SLUICE_CLI_LAZY_LIBS)

#include <dlfcn.h>

#include <cstdarg>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#pragma GCC visibility push(hidden)
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <libpq-fe.h>
#pragma GCC visibility pop

namespace {

struct lazy_library {
    lazy_library(const char* soname, const char* link) : names{soname, link} {}
    const char* names[2];  ///< the soname first, then the development link
    void* handle = nullptr;
    std::string error;  ///< dlerror() of the first name tried, when none loaded
    std::once_flag once;
};

lazy_library libpq{"libpq.so.5", "libpq.so"};
lazy_library libcurl{"libcurl.so.4", "libcurl.so"};

/// The address of `name` in `lib`, loading `lib` at the first call; throws when either is
/// missing (a command that needs Postgres or S3 then fails with the loader's message).
void* lazy_symbol(lazy_library& lib, const char* name) {
    std::call_once(lib.once, [&lib] {
        for (const char* n : lib.names) {
            if ((lib.handle = dlopen(n, RTLD_NOW | RTLD_LOCAL)) != nullptr)
                return;
            if (const char* e = dlerror(); e != nullptr && lib.error.empty())
                lib.error = e;
        }
    });
    if (lib.handle == nullptr)
        throw std::runtime_error("this command needs " + std::string(lib.names[0]) + ": " +
                                 lib.error);
    void* f = dlsym(lib.handle, name);
    if (f == nullptr)
        throw std::runtime_error(std::string("cannot load ") + lib.names[0] + ": no " + name);
    return f;
}

/// GnuTLS, which libpq (through LDAP) and libcurl (through librtmp) load but the CLI never
/// uses, initialises itself in a constructor unless GNUTLS_NO_IMPLICIT_INIT is set: 0.8 MiB
/// of resident memory for nothing. Set here, before main and any thread, unless the user
/// set it; the CLI starts no other program. Code that does use GnuTLS (LDAP over TLS) calls
/// gnutls_global_init itself.
const bool gnutls_not_implicit = ::setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0) == 0;

}  // namespace

// One definition per function: resolved once (a thread-safe local static), then a call
// through the pointer.
#define SLUICE_LAZY(lib, ret, name, params, args)                                              \
    extern "C" ret name params {                                                               \
        static const auto real = reinterpret_cast<decltype(&::name)>(lazy_symbol(lib, #name)); \
        return real args;                                                                      \
    }

// --- libpq -----------------------------------------------------------------------------------
SLUICE_LAZY(libpq, int, PQbackendPID, (const PGconn* c), (c))
SLUICE_LAZY(libpq, int, PQcancel, (PGcancel * c, char* buf, int n), (c, buf, n))
SLUICE_LAZY(libpq, void, PQclear, (PGresult * r), (r))
SLUICE_LAZY(libpq, char*, PQcmdTuples, (PGresult * r), (r))
SLUICE_LAZY(libpq, PGconn*, PQconnectdbParams,
            (const char* const* k, const char* const* v, int expand), (k, v, expand))
SLUICE_LAZY(libpq, void, PQconninfoFree, (PQconninfoOption * o), (o))
SLUICE_LAZY(libpq, PQconninfoOption*, PQconninfoParse, (const char* s, char** err), (s, err))
SLUICE_LAZY(libpq, int, PQconsumeInput, (PGconn * c), (c))
SLUICE_LAZY(libpq, PGresult*, PQdescribePrepared, (PGconn * c, const char* s), (c, s))
SLUICE_LAZY(libpq, char*, PQerrorMessage, (const PGconn* c), (c))
SLUICE_LAZY(libpq, PGresult*, PQexec, (PGconn * c, const char* q), (c, q))
SLUICE_LAZY(libpq, PGresult*, PQexecParams,
            (PGconn * c, const char* q, int n, const Oid* types, const char* const* values,
             const int* lengths, const int* formats, int result_format),
            (c, q, n, types, values, lengths, formats, result_format))
SLUICE_LAZY(libpq, void, PQfinish, (PGconn * c), (c))
SLUICE_LAZY(libpq, int, PQfmod, (const PGresult* r, int i), (r, i))
SLUICE_LAZY(libpq, char*, PQfname, (const PGresult* r, int i), (r, i))
SLUICE_LAZY(libpq, void, PQfreeCancel, (PGcancel * c), (c))
SLUICE_LAZY(libpq, void, PQfreemem, (void* p), (p))
SLUICE_LAZY(libpq, Oid, PQftype, (const PGresult* r, int i), (r, i))
SLUICE_LAZY(libpq, PGcancel*, PQgetCancel, (PGconn * c), (c))
SLUICE_LAZY(libpq, int, PQgetCopyData, (PGconn * c, char** buf, int async), (c, buf, async))
SLUICE_LAZY(libpq, PGresult*, PQgetResult, (PGconn * c), (c))
SLUICE_LAZY(libpq, int, PQgetisnull, (const PGresult* r, int t, int f), (r, t, f))
SLUICE_LAZY(libpq, int, PQgetlength, (const PGresult* r, int t, int f), (r, t, f))
SLUICE_LAZY(libpq, char*, PQgetvalue, (const PGresult* r, int t, int f), (r, t, f))
SLUICE_LAZY(libpq, int, PQlibVersion, (), ())
SLUICE_LAZY(libpq, int, PQnfields, (const PGresult* r), (r))
SLUICE_LAZY(libpq, int, PQntuples, (const PGresult* r), (r))
SLUICE_LAZY(libpq, char*, PQpass, (const PGconn* c), (c))
SLUICE_LAZY(libpq, PGresult*, PQprepare,
            (PGconn * c, const char* name, const char* q, int n, const Oid* types),
            (c, name, q, n, types))
SLUICE_LAZY(libpq, int, PQputCopyData, (PGconn * c, const char* buf, int n), (c, buf, n))
SLUICE_LAZY(libpq, int, PQputCopyEnd, (PGconn * c, const char* err), (c, err))
SLUICE_LAZY(libpq, char*, PQresultErrorField, (const PGresult* r, int code), (r, code))
SLUICE_LAZY(libpq, char*, PQresultErrorMessage, (const PGresult* r), (r))
SLUICE_LAZY(libpq, ExecStatusType, PQresultStatus, (const PGresult* r), (r))
SLUICE_LAZY(libpq, int, PQsendQuery, (PGconn * c, const char* q), (c, q))
SLUICE_LAZY(libpq, int, PQsendQueryParams,
            (PGconn * c, const char* q, int n, const Oid* types, const char* const* values,
             const int* lengths, const int* formats, int result_format),
            (c, q, n, types, values, lengths, formats, result_format))
SLUICE_LAZY(libpq, int, PQserverVersion, (const PGconn* c), (c))
SLUICE_LAZY(libpq, PQnoticeProcessor, PQsetNoticeProcessor,
            (PGconn * c, PQnoticeProcessor p, void* arg), (c, p, arg))
SLUICE_LAZY(libpq, int, PQsetSingleRowMode, (PGconn * c), (c))
SLUICE_LAZY(libpq, int, PQsocket, (const PGconn* c), (c))
SLUICE_LAZY(libpq, ConnStatusType, PQstatus, (const PGconn* c), (c))
SLUICE_LAZY(libpq, PGTransactionStatusType, PQtransactionStatus, (const PGconn* c), (c))

// --- libcurl ---------------------------------------------------------------------------------
SLUICE_LAZY(libcurl, void, curl_easy_cleanup, (CURL * h), (h))
SLUICE_LAZY(libcurl, CURL*, curl_easy_init, (), ())
SLUICE_LAZY(libcurl, CURLcode, curl_easy_perform, (CURL * h), (h))
SLUICE_LAZY(libcurl, void, curl_easy_reset, (CURL * h), (h))
SLUICE_LAZY(libcurl, const char*, curl_easy_strerror, (CURLcode c), (c))
SLUICE_LAZY(libcurl, CURLcode, curl_global_init, (long flags), (flags))
SLUICE_LAZY(libcurl, curl_slist*, curl_slist_append, (curl_slist * l, const char* s), (l, s))
SLUICE_LAZY(libcurl, void, curl_slist_free_all, (curl_slist * l), (l))

// The two variadic functions take one argument after the option, whose type the option's
// number says (curl.h: CURLOPTTYPE_* and CURLINFO_* ranges); it is read as that type and
// passed on as that type.
extern "C" CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
    using fn = CURLcode (*)(CURL*, CURLoption, ...);
    static const auto real = reinterpret_cast<fn>(lazy_symbol(libcurl, "curl_easy_setopt"));
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        rc = real(h, option, v);
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        void* v = va_arg(ap, void*);
        rc = real(h, option, v);
    } else if (option < CURLOPTTYPE_OFF_T) {
        using any_fn = void (*)();
        any_fn v = va_arg(ap, any_fn);
        rc = real(h, option, v);
    } else if (option < CURLOPTTYPE_BLOB) {
        curl_off_t v = va_arg(ap, curl_off_t);
        rc = real(h, option, v);
    } else {
        void* v = va_arg(ap, void*);
        rc = real(h, option, v);
    }
    va_end(ap);
    return rc;
}

extern "C" CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
    using fn = CURLcode (*)(CURL*, CURLINFO, ...);
    static const auto real = reinterpret_cast<fn>(lazy_symbol(libcurl, "curl_easy_getinfo"));
    // Every CURLINFO_* takes a pointer to where the answer goes.
    va_list ap;
    va_start(ap, info);
    void* out = va_arg(ap, void*);
    va_end(ap);
    return real(h, info, out);
}

#endif  // SLUICE_CLI_LAZY_LIBS
