fn main() {
    print!("{}", telephony_operator::api::crds_yaml().unwrap());
}
