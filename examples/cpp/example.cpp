// example.cpp — libbrs from C++ with RAII: a Session that closes itself, a
// Credentials that clears (and wipes) itself, and errors as exceptions.
//
// Build (from the repository root, after `make lib`):
//
//   g++ -std=c++17 -Iinclude -o example-cpp examples/cpp/example.cpp -Lbuild -lbrs -Wl,-rpath,"$PWD/build"
//
// The getter is any C++ callable; it stands in for your authentication
// flow. This program never prints the secret key or the session token.
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "brs.h"

namespace brs {

// Error is a failed call: the status code and the library's message.
class Error : public std::runtime_error {
  public:
    Error(int status, brs_error &err)
        : std::runtime_error(err.message ? err.message : brs_errstr(status)), status_(status),
          param_(err.param ? err.param : "") {
        brs_error_clear(&err);
    }
    int status() const { return status_; }
    const std::string &param() const { return param_; }

  private:
    int status_;
    std::string param_;
};

// Credentials owns one struct brs_credentials and clears it (secrets
// zeroed) when it goes out of scope. Move-only.
class Credentials {
  public:
    Credentials() = default;
    Credentials(const Credentials &) = delete;
    Credentials &operator=(const Credentials &) = delete;
    Credentials(Credentials &&o) noexcept : c_(o.c_) { o.c_ = {}; }
    Credentials &operator=(Credentials &&o) noexcept {
        if (this != &o) {
            brs_credentials_clear(&c_);
            c_ = o.c_;
            o.c_ = {};
        }
        return *this;
    }
    ~Credentials() { brs_credentials_clear(&c_); }

    const char *access_key() const { return c_.access_key; }
    const char *secret_key() const { return c_.secret_key; }
    const char *token() const { return c_.token; }
    const char *expiry_time() const { return c_.expiry_time; }
    long long valid_for_ms() const { return c_.valid_for_ms; }
    struct brs_credentials *out() { return &c_; }

  private:
    struct brs_credentials c_ = {};
};

// A getter: fills the answer's keys, or throws to fail the refresh.
using Getter = std::function<std::map<std::string, std::string>()>;

// Session owns a brs_session and closes it when it goes out of scope.
// Move-only; the getter lives as long as the session.
class Session {
  public:
    Session(const std::string &config, Getter getter) : getter_(new Getter(std::move(getter))) {
        brs_error err = {};
        int rc = brs_new_session(config.c_str(), &Session::trampoline, getter_, &handle_, &err);
        if (rc != BRS_OK) {
            delete getter_;
            throw Error(rc, err);
        }
    }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    Session(Session &&o) noexcept : handle_(o.handle_), getter_(o.getter_) { o.handle_ = 0, o.getter_ = nullptr; }
    ~Session() {
        if (handle_ != 0) brs_close_session(handle_); // the getter is never called after this
        delete getter_;
    }

    Credentials credentials() {
        Credentials c;
        brs_error err = {};
        int rc = brs_credentials(handle_, c.out(), &err);
        if (rc != BRS_OK) throw Error(rc, err);
        return c;
    }

  private:
    // The brs_callback: no exception may cross into the library.
    static int trampoline(void *user_data, int request, brs_result *result) {
        if (request != BRS_REQ_CREDENTIALS) {
            brs_result_set(result, "error", "this getter only supplies credentials");
            return 1;
        }
        try {
            for (const auto &kv : (*static_cast<Getter *>(user_data))())
                brs_result_set(result, kv.first.c_str(), kv.second.c_str());
            return 0;
        } catch (const std::exception &e) {
            brs_result_set(result, "error", e.what());
        } catch (...) {
            brs_result_set(result, "error", "the getter threw");
        }
        return 1;
    }

    brs_session handle_ = 0;
    Getter *getter_;
};

} // namespace brs

static std::string in_an_hour() {
    std::time_t t = std::time(nullptr) + 3600;
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

int main() {
    int calls = 0;
    try {
        brs::Session session("{\"method\": \"custom\"}", [&calls] {
            ++calls; // real code would call its identity service here
            return std::map<std::string, std::string>{{"access_key", "EXAMPLEACCESSKEY"},
                                                      {"secret_key", "example-secret-never-printed"},
                                                      {"token", "example-session-token"},
                                                      {"expiry_time", in_an_hour()}};
        });
        for (int i = 0; i < 3; i++) {
            brs::Credentials c = session.credentials();
            std::cout << "access key " << c.access_key() << ", expires " << c.expiry_time() << ", reusable for "
                      << c.valid_for_ms() / 1000 << " s\n";
        }
        std::cout << "getter called " << calls << " time(s)\n";

        brs::Session failing("{}", []() -> std::map<std::string, std::string> {
            throw std::runtime_error("identity service unavailable");
        });
        failing.credentials();
    } catch (const brs::Error &e) {
        std::cout << "error (" << brs_errstr(e.status()) << "): " << e.what() << "\n";
        return calls == 1 && e.status() == BRS_ECREDENTIAL ? 0 : 1;
    }
    return 1;
}
