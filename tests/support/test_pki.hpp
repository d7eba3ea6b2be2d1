// Test support: a small PKI made with the openssl command at test time
// (a CA, and server certificates that are good, for another name, expired,
// or self-signed), shared by every TLS test and removed at exit.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace wscoro::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// The certificates, made once per test run, removed at exit.
class test_pki {
 public:
  test_pki() {
    char dir_template[] = "/tmp/wscoro-tls-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = dir_template;
    try {
      make();
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string ca() const { return path("ca.crt"); }
  std::vector<std::string> server_args(const std::string& name) const {
    return {"--tls", path(name + ".crt"), path(name + ".key")};
  }

  /// Runs `openssl args` in the directory, bounded to 30 s; returns its exit status.
  int openssl(const std::string& args) const {
    const std::string log = path("openssl.log");
    const std::string command = "cd '" + dir_.string() + "' && timeout 30 openssl " + args + " >'" + log +
                                "' 2>&1";
    const int status = std::system(command.c_str());
    last_output_ = read_file(log);
    return status;
  }
  const std::string& last_output() const { return last_output_; }

 private:
  void run(const std::string& args) const {
    if (openssl(args) != 0) throw std::runtime_error("openssl " + args + " failed:\n" + last_output_);
  }

  // An EC P-256 key and a CSR for `cn`.
  void key_and_csr(const std::string& name, const std::string& cn) const {
    run("req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name + ".key -out " + name +
        ".csr -subj '/CN=" + cn + "'");
  }

  void make() {
    run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 30 "
        "-subj '/CN=wscoro test CA' -addext 'basicConstraints=critical,CA:TRUE' "
        "-addext 'keyUsage=critical,keyCertSign,cRLSign'");

    write_file(dir_ / "localhost.ext",
               "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
    write_file(dir_ / "other.ext",
               "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");

    key_and_csr("good", "localhost");
    run("x509 -req -in good.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 30 -sha256 -extfile localhost.ext "
        "-out good.crt");

    key_and_csr("other", "other.example");
    run("x509 -req -in other.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 30 -sha256 -extfile other.ext "
        "-out other.crt");

    // `openssl x509 -req` cannot date a certificate in the past; `openssl ca` can.
    std::filesystem::create_directory(dir_ / "newcerts");
    write_file(dir_ / "index.txt", "");
    write_file(dir_ / "serial", "04\n");
    write_file(dir_ / "ca.cnf",
               "[ ca ]\n"
               "default_ca = test_ca\n"
               "[ test_ca ]\n"
               "dir = " + dir_.string() + "\n"
               "database = $dir/index.txt\n"
               "new_certs_dir = $dir/newcerts\n"
               "certificate = $dir/ca.crt\n"
               "private_key = $dir/ca.key\n"
               "serial = $dir/serial\n"
               "default_md = sha256\n"
               "policy = policy_any\n"
               "unique_subject = no\n"
               "copy_extensions = none\n"
               "x509_extensions = server_ext\n"
               "[ policy_any ]\n"
               "commonName = supplied\n"
               "[ server_ext ]\n"
               "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
               "basicConstraints = CA:FALSE\n"
               "keyUsage = critical,digitalSignature\n"
               "extendedKeyUsage = serverAuth\n");
    key_and_csr("expired", "localhost");
    run("ca -batch -config ca.cnf -notext -in expired.csr -out expired.crt "
        "-startdate 20200101000000Z -enddate 20200102000000Z");

    run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout selfsigned.key "
        "-out selfsigned.crt -days 30 -subj '/CN=localhost' "
        "-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' -addext 'basicConstraints=critical,CA:FALSE'");
  }

  std::filesystem::path dir_;
  mutable std::string last_output_;
};

inline const test_pki& pki() {
  static const test_pki instance;
  return instance;
}

}  // namespace wscoro::test
